import type { BenchSuite } from '../BenchContext';

export const uiSuite: BenchSuite = async () => [];
