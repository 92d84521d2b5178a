import type { BenchSuite } from '../BenchContext';

export const engineSuite: BenchSuite = async () => [];
