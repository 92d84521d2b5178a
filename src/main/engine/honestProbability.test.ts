import { getLlama, LlamaLogLevel, type Token } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTinyModels, type TinyModels } from '../../../tests/fixtures/gguf/tinyModels';
import { llamaNode, type LlamaNodeContext } from './llama/llamaNode';
import { LlamaNodeReasoner } from './llama/LlamaNodeReasoner';
import type { GeneratedToken, ModelIdentity } from './ports';

const identity = (path: string): ModelIdentity => ({ path, name: 'tiny', sha256: 'test', sizeBytes: 0 });

/**
 * The CDIR trigger must read the model's own probability of its answer, not the sampler's: under greedy decoding
 * llama.node reports 1 for every token. The honest value is the softmax of the logits at the answer position —
 * checked here against raw logits read independently through node-llama-cpp (the other llama.cpp binding) for the
 * same tokens.
 */
describe('honest answer probability', () => {
  let models: TinyModels;
  let reasoner: LlamaNodeReasoner;
  let tokenizer: LlamaNodeContext;
  let llama: Awaited<ReturnType<typeof getLlama>>;

  beforeAll(async () => {
    models = await ensureTinyModels();
    reasoner = await LlamaNodeReasoner.load({ model: identity(models.textModel), contextSize: 512, threads: 1 });
    tokenizer = await llamaNode().loadModel({ model: models.textModel, n_ctx: 64, n_threads: 1, vocab_only: true });
    llama = await getLlama({ build: 'never', gpu: false, logLevel: LlamaLogLevel.error });
  });
  afterAll(async () => {
    await reasoner?.dispose();
    await tokenizer?.release();
    await llama?.dispose();
  });

  it('is below 1 for the greedy answer, and equals the softmax of the same logits', async () => {
    const session = await reasoner.createSession();
    const streamed: GeneratedToken[] = [];
    const answer = await session.start([{ role: 'user', content: 'Is there a pneumothorax? Answer:' }], {
      maxTokens: 1,
      onToken: (t) => streamed.push(t),
    });
    // The sampler's view under greedy decoding: certainty.
    expect(streamed).toHaveLength(1);
    expect(streamed[0]!.probability).toBe(1);

    const prompt = session.transcript.slice(0, session.transcript.length - answer.text.length);
    await session.rewind!(prompt.length);
    const probe = await session.probeNextToken({ top: 300 });
    const honest = probe.top.find((t) => t.tokenId === streamed[0]!.tokenId)!;
    expect(honest.tokenId).toBe(probe.top[0]!.tokenId);
    expect(honest.probability).toBeLessThan(1);
    expect(honest.probability).toBeGreaterThan(0);

    // The same positions, evaluated by node-llama-cpp, raw logits of the whole vocabulary at the answer position.
    // llama.node's text-only tokenize() leaves out the BOS token a completion adds (id 1 in the tiny vocabulary).
    const ids = [1, ...Array.from((await tokenizer.tokenize(prompt)).tokens)] as Token[];
    const model = await llama.loadModel({ modelPath: models.textModel });
    const context = await model.createContext({ contextSize: 512, threads: 1 });
    const evaluated = await context.getSequence().controlledEvaluate([
      ...ids.slice(0, -1),
      [ids.at(-1)!, { generateNext: { logits: true, options: { temperature: 1, topK: 0, topP: 1, minP: 0 } } }],
    ]);
    const logits = evaluated.at(-1)!.next.logits!;
    expect(logits.size).toBe(300);
    const max = Math.max(...logits.values());
    let sum = 0;
    for (const v of logits.values()) sum += Math.exp(v - max);
    const softmax = (id: number): number => Math.exp(logits.get(id as Token)! - max) / sum;

    const argmax = [...logits].reduce((best, entry) => (entry[1] > best[1] ? entry : best))[0];
    expect(argmax).toBe(honest.tokenId);
    // Two builds of llama.cpp (node-llama-cpp bundles its own) agree to float32 accumulation noise.
    expect(honest.probability).toBeCloseTo(softmax(honest.tokenId), 4);
    for (const t of probe.top) expect(t.probability, `token ${t.tokenId} ${JSON.stringify(t.text)}`).toBeCloseTo(softmax(t.tokenId), 4);
    await context.dispose();
    await model.dispose();
  });

  it('does not depend on the sampling settings used to generate', async () => {
    const probeAfter = async (temperature: number) => {
      const session = await reasoner.createSession();
      await session.start([{ role: 'user', content: 'Which side? Answer:' }], { maxTokens: 4, temperature, seed: 3 });
      return session.probeNextToken({ appended: ' final', top: 5 });
    };
    const greedy = await probeAfter(0);
    const sampled = await probeAfter(0.7);
    const sum = greedy.top.reduce((s, t) => s + t.probability, 0);
    expect(sum).toBeLessThan(1);
    // Different generated text, but each probe is a full-temperature softmax: neither collapses to one-hot.
    expect(greedy.top[0]!.probability).toBeLessThan(0.5);
    expect(sampled.top[0]!.probability).toBeLessThan(0.5);
  });
});
