/**
 * Engine overheads, each measured side by side in one run (interleaved repetitions, medians):
 * - adapter tokens/s vs the raw @fugood/llama.node binding (goal ≥ 0.97),
 * - the engine process vs the in-process adapter (boundary cost ≤ 3%),
 * - time to first token: raw, adapter, engine process,
 * - KV reuse: tokens prefilled by continue() vs tokens appended (goal ≤ 1.05×).
 * Models: the generated tiny llama, and ../shared/models/stories260K.gguf (a real trained model) when present.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ensureTinyModels } from '../../tests/fixtures/gguf/tinyModels';
import { llamaNode, type LlamaNodeContext } from '../../src/main/engine/llama/llamaNode';
import { LlamaNodeReasoner, neutralSampling } from '../../src/main/engine/llama/LlamaNodeReasoner';
import type { ModelIdentity, Reasoner } from '../../src/main/engine/ports';
import { EngineSupervisor } from '../../src/main/engine/process/EngineSupervisor';
import { nodeEngineSpawner } from '../../src/main/engine/process/nodeSpawner';
import { RemoteReasoner } from '../../src/main/engine/process/remote';
import { physicalCores } from '../../src/main/engine/system/machine';
import type { BenchSuite, BenchTable } from '../BenchContext';

const identity = (path: string): ModelIdentity => ({ path, name: path.split('/').pop()!, sha256: 'bench', sizeBytes: 0 });
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** The options the adapter sends for greedy generation, so the raw binding does the same work. */
const sameWork = { temperature: 0, top_p: 1, seed: 42, n_probs: 1, ...neutralSampling };

/** The raw binding, used the way its README shows, with only what it takes to survive back-to-back calls. */
class RawBinding {
  private constructor(
    private context: LlamaNodeContext,
    private readonly open: () => Promise<LlamaNodeContext>,
  ) {}
  static async load(path: string, contextSize: number, threads: number): Promise<RawBinding> {
    const open = () => llamaNode().loadModel({ model: path, n_ctx: contextSize, n_threads: threads, n_parallel: 1, ctx_shift: false });
    return new RawBinding(await open(), open);
  }
  /** A chat completion as a user of the binding writes it: messages in, the template applied natively. */
  async complete(prompt: string, tokens: number): Promise<{ ms: number; generated: number; firstTokenMs: number }> {
    for (let attempt = 0; ; attempt++) {
      let generated = 0;
      let firstTokenMs = 0;
      const started = performance.now();
      try {
        const result = await this.context.completion({ messages: [{ role: 'user', content: prompt }], n_predict: tokens, ...sameWork }, () => {
          if (generated++ === 0) firstTokenMs = performance.now() - started;
        });
        const ms = performance.now() - started;
        // A token callback can arrive after the promise settled: the count comes from the result, and a first token
        // not yet delivered was produced no later than the result.
        return { ms, generated: result.tokens_predicted, firstTokenMs: generated > 0 ? firstTokenMs : ms };
      } catch (error) {
        if (!/Another completion/.test(String(error)) || attempt > 20) throw error;
        // Not timed: the raw binding's stuck flag (see GuardedContext) is cleared the only way it can be.
        if (attempt > 5) this.context = await this.open();
        else await new Promise((r) => setTimeout(r, 2));
      }
    }
  }
  dispose(): Promise<void> {
    return this.context.release();
  }
}

/**
 * The median of the per-repetition ratios (each repetition measures the subjects back to back, so slow drift of the
 * machine cancels), with the interquartile range of those ratios: the spread says how far one run can be trusted.
 */
function pairedRatio(numerator: number[], denominator: number[]): string {
  const ratios = numerator.map((n, i) => n / denominator[i]!).sort((a, b) => a - b);
  const at = (q: number): number => ratios[Math.min(ratios.length - 1, Math.floor(q * ratios.length))]!;
  return `${median(ratios).toFixed(3)} (IQR ${at(0.25).toFixed(2)}–${at(0.75).toFixed(2)})`;
}

/**
 * A pause before each timed call: the three contexts live in two processes, and ggml's threadpool threads keep
 * spinning for a while after their work; on a 2-core machine the previous subject's spinning threads would otherwise
 * be charged to the next one (the order raw → adapter → process would bias every ratio).
 */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 150));

async function viaPort(reasoner: Reasoner, prompt: string, tokens: number): Promise<{ ms: number; generated: number; firstTokenMs: number }> {
  const session = await reasoner.createSession();
  let firstTokenMs = 0;
  let seen = 0;
  const started = performance.now();
  const result = await session.start([{ role: 'user', content: prompt }], {
    maxTokens: tokens,
    onToken: () => {
      if (seen++ === 0) firstTokenMs = performance.now() - started;
    },
  });
  const ms = performance.now() - started;
  await session.dispose();
  return { ms, generated: result.generatedTokens, firstTokenMs };
}

export const engineSuite: BenchSuite = async ({ sharedDir, quick, log }) => {
  const tiny = await ensureTinyModels();
  const threads = physicalCores();
  const candidates: { name: string; path: string }[] = [{ name: 'tiny random llama (n_embd 64)', path: tiny.textModel }];
  const stories = sharedDir ? join(sharedDir, 'models/stories260K.gguf') : null;
  if (stories && existsSync(stories)) candidates.push({ name: 'stories260K (trained)', path: stories });
  const reps = quick ? 5 : 21;
  // Long generations: a call's fixed costs (one request and one response message, about a millisecond across the
  // process boundary) belong in the time-to-first-token table, not in tokens/s; at 256 tokens of a 3000 tok/s toy
  // model they alone are 2–4 %.
  const tokens = quick ? 256 : 1024;
  const throughput: BenchTable = {
    title: `Reasoner throughput: ${tokens} greedy tokens, streamed with probabilities, ${threads} threads (median of ${reps})`,
    columns: ['model', 'raw llama.node tok/s', 'adapter tok/s', 'engine process tok/s', 'adapter / raw', 'process / adapter'],
    rows: [],
    notes: [
      'Goals: adapter / raw ≥ 0.97; process / adapter ≥ 0.97 (the process boundary costs ≤ 3%).',
      'Ratios: median of per-repetition ratios (subjects measured back to back), with their interquartile range.',
    ],
  };
  const firstToken: BenchTable = {
    title: `Time to first token, fresh prompt each time (median of ${reps})`,
    columns: ['model', 'raw ms', 'adapter ms', 'engine process ms', 'adapter / raw', 'process / adapter'],
    rows: [],
  };
  const reuse: BenchTable = {
    title: 'KV reuse on continue(): prompt tokens prefilled vs tokens appended',
    columns: ['model', 'appended text tokens', 'prefilled', 'from cache', 'prefilled / appended'],
    rows: [],
    notes: [
      'Goal ≤ 1.05×. Prefilled = appended + the previous answer re-read when its retokenization differs from the sampled tokens (at most the generated tokens), + 1.',
    ],
  };

  const supervisor = new EngineSupervisor({ spawner: nodeEngineSpawner() });
  try {
    for (const candidate of candidates) {
      log(`${candidate.name}: loading raw, adapter, engine process`);
      const raw = await RawBinding.load(candidate.path, 2048, threads);
      const adapter = await LlamaNodeReasoner.load({ model: identity(candidate.path), contextSize: 2048, threads });
      const remote = await RemoteReasoner.load(supervisor, {
        model: identity(candidate.path),
        projector: null,
        contextSize: 2048,
        threads,
        gpuLayers: 0,
        mmprojOffload: false,
      });
      const prompt = 'Describe the chest radiograph.';
      // Warm-up: caches, page faults, the process's first call.
      await raw.complete(prompt, 8);
      await viaPort(adapter, prompt, 8);
      await viaPort(remote, prompt, 8);

      const rates = { raw: [] as number[], adapter: [] as number[], remote: [] as number[] };
      const ttft = { raw: [] as number[], adapter: [] as number[], remote: [] as number[] };
      for (let i = 0; i < reps; i++) {
        await settle();
        const r = await raw.complete(prompt, tokens);
        rates.raw.push(r.generated / (r.ms / 1000));
        await settle();
        const a = await viaPort(adapter, prompt, tokens);
        rates.adapter.push(a.generated / (a.ms / 1000));
        await settle();
        const p = await viaPort(remote, prompt, tokens);
        rates.remote.push(p.generated / (p.ms / 1000));
        // Time to first token with a prompt that is not cached (a new question each time).
        const fresh = `Question ${i}: is there a left-sided pleural effusion on this film?`;
        await settle();
        ttft.raw.push((await raw.complete(fresh, 1)).firstTokenMs);
        await settle();
        ttft.adapter.push((await viaPort(adapter, `${fresh} `, 1)).firstTokenMs);
        await settle();
        ttft.remote.push((await viaPort(remote, `${fresh}  `, 1)).firstTokenMs);
      }
      const [rr, ra, rp] = [median(rates.raw), median(rates.adapter), median(rates.remote)];
      throughput.rows.push([candidate.name, rr, ra, rp, pairedRatio(rates.adapter, rates.raw), pairedRatio(rates.remote, rates.adapter)]);
      const [tr, ta, tp] = [median(ttft.raw), median(ttft.adapter), median(ttft.remote)];
      firstToken.rows.push([candidate.name, tr, ta, tp, pairedRatio(ttft.adapter, ttft.raw), pairedRatio(ttft.remote, ttft.adapter)]);

      // KV reuse: a retrieved passage appended to a transcript, as the Med-RwR loop does.
      const session = await adapter.createSession();
      await session.start([{ role: 'user', content: prompt }], { maxTokens: 8 });
      const passage =
        ' <retrieve> Pleural effusion is an abnormal collection of fluid in the pleural space. On an upright chest ' +
        'radiograph it blunts the costophrenic angle and forms a meniscus; large effusions shift the mediastinum ' +
        'away from the affected side. Ultrasound guides thoracentesis. </retrieve> ';
      const continued = await session.continue(passage, { maxTokens: 8 });
      const appendedTokens = await countTokens(candidate.path, passage);
      reuse.rows.push([candidate.name, appendedTokens, continued.promptTokens, continued.cachedTokens, continued.promptTokens / appendedTokens]);
      await session.dispose();

      await raw.dispose();
      await adapter.dispose();
      await remote.dispose();
    }
  } finally {
    await supervisor.dispose();
  }
  return [throughput, firstToken, reuse];
};

async function countTokens(path: string, text: string): Promise<number> {
  const context = await llamaNode().loadModel({ model: path, n_ctx: 64, vocab_only: true });
  try {
    return (await context.tokenize(text)).tokens.length;
  } finally {
    await context.release();
  }
}
