import type { BenchSuite } from '../BenchContext';

export const reasoningSuite: BenchSuite = async () => [];
