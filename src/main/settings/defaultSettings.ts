import type { Settings } from '../../shared/contract';

/** Defaults follow the Med-RwR paper: top-3 passages, up to 3 retrieval rounds, CDIR below 0.9. */
export function defaultSettings(): Settings {
  return {
    models: { reasoner: null, mmproj: null, embedding: null, reranker: null },
    engine: { threads: null, gpuLayers: 'auto', mmprojOffload: true, contextSize: 4096, logLevel: 'warn' },
    retrieval: { k: 3, maxRounds: 3, mode: 'hybrid' },
    reasoning: {
      mode: 'rwr+cdir',
      cdirThreshold: 0.9,
      confidenceSource: 'first-token',
      maxTokens: 1024,
      temperature: 0,
      seed: 42,
      grammarConstrained: false,
      grammarThinkChars: 2000,
      grammarQueryChars: 300,
      grammarLoopOpensThought: true,
    },
  };
}
