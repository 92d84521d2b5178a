import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTinyModels, type TinyModels } from '../../../../tests/fixtures/gguf/tinyModels';
import { isEngineError } from '../engineErrors';
import type { GeneratedToken, ModelIdentity } from '../ports';
import { LlamaNodeReasoner } from './LlamaNodeReasoner';

const identity = (path: string): ModelIdentity => ({ path, name: path.split('/').pop()!, sha256: 'test', sizeBytes: 0 });

let models: TinyModels;
let reasoner: LlamaNodeReasoner;
let textOnly: LlamaNodeReasoner;

beforeAll(async () => {
  models = await ensureTinyModels();
  reasoner = await LlamaNodeReasoner.load({
    model: identity(models.textModel),
    projector: identity(models.mmproj),
    contextSize: 512,
    threads: 1,
    mmprojOffload: false,
  });
  textOnly = await LlamaNodeReasoner.load({ model: identity(models.textModel), contextSize: 256, threads: 1 });
});

afterAll(async () => {
  await reasoner?.dispose();
  await textOnly?.dispose();
});

describe('LlamaNodeReasoner (tiny llama + mlp projector)', () => {
  it('streams every token with its probability and id, and the tokens spell the result', async () => {
    const session = await reasoner.createSession();
    const tokens: GeneratedToken[] = [];
    const result = await session.start([{ role: 'user', content: 'Is there a mass?' }], {
      maxTokens: 16,
      topAlternatives: 3,
      onToken: (t) => tokens.push(t),
    });
    expect(result.stoppedBy).toBe('limit');
    expect(result.generatedTokens).toBe(16);
    expect(tokens.map((t) => t.text).join('')).toBe(result.text);
    expect(tokens.length).toBe(16);
    for (const t of tokens) {
      // Greedy decoding: the sampler reports 1, which is why confidence comes from probeNextToken instead.
      expect(t.probability).toBe(1);
      expect(t.tokenId).toBeGreaterThanOrEqual(0);
      expect(t.topAlternatives[0]!.tokenId).toBe(t.tokenId);
    }
    expect(session.transcript.endsWith(result.text)).toBe(true);
    expect(session.transcript).toContain('user: Is there a mass?');
  });

  it('is reproducible under greedy decoding and follows the seed when sampling', async () => {
    const run = async (options: { temperature?: number; seed?: number }) => {
      const s = await reasoner.createSession();
      return (await s.start([{ role: 'user', content: 'Describe the scan.' }], { maxTokens: 12, ...options })).text;
    };
    expect(await run({})).toBe(await run({}));
    expect(await run({ temperature: 1, seed: 7 })).toBe(await run({ temperature: 1, seed: 7 }));
  });

  it('stops on a string and includes it in the text', async () => {
    const free = await reasoner.createSession();
    const reference = await free.start([{ role: 'user', content: 'Hello' }], { maxTokens: 24 });
    const stop = reference.text.slice(4, 7);
    expect(stop.length).toBe(3);
    const session = await reasoner.createSession();
    const tokens: string[] = [];
    const result = await session.start([{ role: 'user', content: 'Hello' }], { maxTokens: 24, stop: [stop], onToken: (t) => tokens.push(t.text) });
    expect(result.stoppedBy).toBe('stop');
    expect(result.stopString).toBe(stop);
    expect(result.text.endsWith(stop)).toBe(true);
    expect(reference.text.startsWith(result.text)).toBe(true);
    expect(tokens.join('')).toBe(result.text);
  });

  it('aborts mid-stream, keeps what was generated, and serves the next call', async () => {
    const session = await reasoner.createSession();
    const controller = new AbortController();
    let seen = 0;
    const result = await session.start([{ role: 'user', content: 'Go on' }], {
      maxTokens: 400,
      signal: controller.signal,
      onToken: () => {
        if (++seen === 5) controller.abort();
      },
    });
    expect(result.stoppedBy).toBe('abort');
    expect(result.generatedTokens).toBeLessThan(400);
    expect(session.transcript.endsWith(result.text)).toBe(true);
    const next = await session.continue(' and then', { maxTokens: 4 });
    expect(next.generatedTokens).toBe(4);
  });

  it('continue() prefills only the appended text (KV cache reuse) and reports the counts', async () => {
    const session = await reasoner.createSession();
    const first = await session.start([{ role: 'user', content: 'What does the chest CT show?' }], { maxTokens: 8 });
    expect(first.cachedTokens + first.promptTokens).toBeGreaterThan(10);
    const appended = '</s>\nuser: the lung mass and the effusion, please describe both of them in detail</s>\nassistant: ';
    const second = await session.continue(appended, { maxTokens: 8 });
    // Everything before the appended text comes from the cache; the generated text re-enters at most as its tokens.
    expect(second.cachedTokens).toBeGreaterThanOrEqual(first.cachedTokens + first.promptTokens - 1);
    expect(second.promptTokens).toBeLessThanOrEqual(appended.length + first.generatedTokens + 1);
    expect(second.promptTokens).toBeGreaterThan(5);
    // The same transcript again: one token must still be evaluated to produce logits.
    const probe = await session.probeNextToken();
    expect(probe.top.length).toBeGreaterThan(0);
    const third = await session.continue('', { maxTokens: 1 });
    expect(third.promptTokens).toBeLessThanOrEqual(2);
  });

  it('passes images through mtmd: a file or PNG bytes, different images give different distributions', async () => {
    const distribution = async (image: { path: string } | { png: Uint8Array }) => {
      const session = await reasoner.createSession();
      await session.start([{ role: 'user', content: 'What is shown?', images: [image] }], { maxTokens: 1 });
      await session.rewind!(session.transcript.lastIndexOf('assistant: ') + 'assistant: '.length);
      const probe = await session.probeNextToken({ top: 5 });
      return probe.top.map((t) => `${t.text}:${t.probability.toFixed(6)}`);
    };
    const gradient = await distribution({ path: models.images.gradient });
    const gradientBytes = await distribution({ png: new Uint8Array(await readFile(models.images.gradient)) });
    const checkerboard = await distribution({ path: models.images.checkerboard });
    expect(gradientBytes).toEqual(gradient);
    expect(checkerboard).not.toEqual(gradient);
  });

  it('continues a transcript with a second image (one per marker), reusing the cached first image', async () => {
    const session = await reasoner.createSession();
    const first = await session.start([{ role: 'user', content: 'Compare.', images: [{ path: models.images.gradient }] }], { maxTokens: 4 });
    expect(first.promptTokens + first.cachedTokens).toBeGreaterThan(16);
    const second = await session.continue(`\nuser: and this one ${reasoner.mediaMarker} ?</s>\nassistant: `, {
      maxTokens: 4,
      images: [{ path: models.images.checkerboard }],
    });
    // The second image's 16 positions are new; the first image and the text before it come from the cache.
    expect(second.promptTokens).toBeGreaterThanOrEqual(16);
    expect(second.cachedTokens).toBeGreaterThanOrEqual(16);
    await expect(session.continue(`${reasoner.mediaMarker}`, { maxTokens: 1 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('probes the honest next-token distribution: a full softmax, greedy answer probability below 1', async () => {
    const session = await reasoner.createSession();
    const start = await session.start([{ role: 'user', content: 'Answer yes or no.' }], { maxTokens: 1 });
    await session.rewind!(session.transcript.length - start.text.length);
    const probe = await session.probeNextToken({ top: 300, candidates: ['or', 'en', 'zz'] });
    const total = probe.top.reduce((sum, t) => sum + t.probability, 0);
    expect(probe.top).toHaveLength(300);
    expect(total).toBeCloseTo(1, 4);
    expect(probe.top[0]!.text).toBe(start.text);
    expect(probe.top[0]!.probability).toBeLessThan(1);
    const byId = new Map(probe.top.map((t) => [t.tokenId, t.probability]));
    for (const c of probe.candidates) {
      expect(c.tokenId).toBeGreaterThanOrEqual(0);
      expect(c.probability).toBeCloseTo(byId.get(c.tokenId)!, 8);
    }
    // The probe does not change the transcript.
    expect(session.transcript.length).toBe(session.transcript.length);
  });

  it('refuses an image without a projector and a transcript beyond the context window, with typed errors', async () => {
    const session = await textOnly.createSession();
    const noVision = await session
      .start([{ role: 'user', content: 'x', images: [{ path: models.images.gradient }] }], { maxTokens: 1 })
      .catch((e: unknown) => e);
    expect(isEngineError(noVision, 'MODEL_NO_VISION')).toBe(true);
    expect((noVision as Error).message).toMatch(/vision projector/);

    const long = await textOnly.createSession();
    const overflow = await long.start([{ role: 'user', content: 'word '.repeat(400) }], { maxTokens: 4 }).catch((e: unknown) => e);
    expect(isEngineError(overflow, 'CONTEXT_OVERFLOW')).toBe(true);
    expect((overflow as Error).message).toMatch(/expected the transcript to fit the context window of 256 tokens, found \d+ tokens/);
    // The context is still usable afterwards.
    const fine = await (await textOnly.createSession()).start([{ role: 'user', content: 'hi' }], { maxTokens: 3 });
    expect(fine.generatedTokens).toBe(3);
  });
});
