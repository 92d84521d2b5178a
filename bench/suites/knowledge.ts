import type { BenchSuite } from '../BenchContext';

export const knowledgeSuite: BenchSuite = async () => [];
