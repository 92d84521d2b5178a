import type { BenchSuite } from '../BenchContext';

export const dicomSuite: BenchSuite = async () => [];
