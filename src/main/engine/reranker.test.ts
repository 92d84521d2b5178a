import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLlama, LlamaLogLevel } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTinyModels, type TinyModels } from '../../../tests/fixtures/gguf/tinyModels';
import type { Settings } from '../../shared/contract';
import { defaultSettings } from '../settings/defaultSettings';
import { EngineService } from './EngineService';
import { failure } from './testing/failure';

/**
 * The reranker through the app's path: settings → inspection → the supervised engine process → node-llama-cpp's
 * ranking context, on the tiny generated BERT cross-encoder (random weights: real scores, no meaning).
 */
let models: TinyModels;
let dir: string;
let engine: EngineService;
let settings: Settings;

const useReranker = (path: string | null, patch: Partial<Settings['models']> = {}): void => {
  settings = { ...settings, models: { ...settings.models, reranker: path, ...patch } };
};

const query = 'What causes pneumonia in the left lower lobe?';
const documents = [
  'Pneumonia is an infection of the lungs, most often caused by bacteria or viruses.',
  'The liver filters the blood and makes bile.',
  'No acute fracture. The heart is normal in size.',
  'Chest CT shows consolidation of the left lower lobe with a small pleural effusion.',
  'Kidney stones cause pain in the flank.',
];
/** About 600 tokens: longer than node-llama-cpp's default batch of 512, shorter than the reranker's 1024. */
const longTail = ' the lung is normal'.repeat(75);

beforeAll(async () => {
  models = await ensureTinyModels();
  dir = await mkdtemp(join(tmpdir(), 'engine-reranker-'));
  settings = defaultSettings();
  settings.engine = { ...settings.engine, threads: 1, gpuLayers: 0 };
  engine = new EngineService({ settings: { get: () => settings }, logDir: dir });
});

afterAll(async () => {
  await engine?.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('reranker in the engine', () => {
  it('inspects the reranker as one, and a BERT encoder without the head as none', async () => {
    expect(await engine.inspect(models.reranker)).toMatchObject({
      architecture: 'bert',
      name: 'tiny-random-bert-reranker',
      contextLength: 1024,
      embeddingLength: 32,
      hasChatTemplate: false,
      isVisionProjector: false,
      isReranker: true,
      problems: [],
    });
    expect(await engine.inspect(models.bertEncoder)).toMatchObject({ architecture: 'bert', isReranker: false, problems: [] });
    expect((await engine.inspect(models.embeddingModel)).isReranker).toBe(false);
  });

  it('MODEL_INVALID naming the missing classification head when a BERT encoder is configured as the reranker', async () => {
    useReranker(models.bertEncoder);
    const error = await failure(engine.load(['reranker']));
    expect(error.code).toBe('MODEL_INVALID');
    expect(error.message).toBe(
      'tiny-bert-encoder.gguf: expected a reranker — a cross-encoder with a classification head (tensor "cls.weight" or "cls.output.weight") — found a bert embedding model (pooling cls) without one',
    );
    expect(engine.status().reranker).toMatchObject({ state: 'failed', path: models.bertEncoder, error: { code: 'MODEL_INVALID' } });
    expect(engine.reranker()).toBeNull();
  });

  let scores: number[];

  it('loads the reranker named in settings in the engine process and ranks: finite scores, in the documents\' order', async () => {
    useReranker(models.reranker);
    const status = await engine.load(['reranker']);
    expect(status.reranker).toMatchObject({ state: 'ready', path: models.reranker, error: null });
    expect(status.reranker.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(status.processAlive).toBe(true);
    const reranker = engine.reranker()!;
    expect(reranker.model).toMatchObject({ path: models.reranker, name: 'tiny-random-bert-reranker', sha256: status.reranker.sha256 });

    scores = await reranker.rank(query, documents);
    expect(scores).toHaveLength(documents.length);
    for (const score of scores) {
      expect(Number.isFinite(score)).toBe(true);
      expect(score).toBeGreaterThan(0);
      expect(score).toBeLessThan(1);
    }
    expect(new Set(scores).size).toBe(documents.length);
    // Each score belongs to its document: a permutation of the documents permutes the scores the same way.
    const order = [3, 0, 4, 2, 1];
    expect(await reranker.rank(query, order.map((i) => documents[i]!))).toEqual(order.map((i) => scores[i]!));
    expect(await reranker.rank(query, [])).toEqual([]);
  });

  it('gives the scores node-llama-cpp gives in this process for the same pairs', async () => {
    const llama = await getLlama({ build: 'never', gpu: false, logLevel: LlamaLogLevel.error });
    try {
      const model = await llama.loadModel({ modelPath: models.reranker });
      const context = await model.createRankingContext({ contextSize: 1024, batchSize: 1024, threads: 1 });
      const direct = await context.rankAll(query, documents);
      direct.forEach((score, i) => expect(scores[i]).toBeCloseTo(score, 6));
    } finally {
      await llama.dispose();
    }
  });

  it('is deterministic across runs: the same call, and after the engine process was killed and reloaded the reranker', async () => {
    const reranker = engine.reranker()!;
    expect(await reranker.rank(query, documents)).toEqual(scores);
    const pid = engine.supervisor.pid!;
    process.kill(pid, 'SIGKILL');
    await expect.poll(() => engine.supervisor.pid !== pid && engine.supervisor.alive, { timeout: 30_000, interval: 50 }).toBe(true);
    expect(await reranker.rank(query, documents)).toEqual(scores);
    expect(engine.supervisor.restarts).toBe(1);
  });

  it('reads a long pair in one batch: a document of ~600 tokens is scored on all of it, not on its last 512', async () => {
    const reranker = engine.reranker()!;
    const [pneumonia, fracture] = await reranker.rank(query, [`pneumonia${longTail}`, `fracture${longTail}`]);
    expect(Number.isFinite(pneumonia)).toBe(true);
    expect(pneumonia).not.toBe(fracture);
  });

  it('scores a document longer than the context by its best window, and refuses a query that leaves no room', async () => {
    const reranker = engine.reranker()!;
    const [long] = await reranker.rank(query, [`pneumonia${longTail.repeat(3)}`]);
    expect(Number.isFinite(long)).toBe(true);
    expect(await reranker.rank(query, [`pneumonia${longTail.repeat(3)}`])).toEqual([long]);
    const error = await failure(reranker.rank('lung '.repeat(1100), ['short']));
    expect(error.code).toBe('CONTEXT_OVERFLOW');
    expect(error.message).toMatch(/expected a query that fits the reranker's context window of 1024 tokens with room for a document, found \d+ tokens/);
  });

  it('stops between documents when aborted', async () => {
    const reranker = engine.reranker()!;
    const controller = new AbortController();
    const many = Array.from({ length: 400 }, (_, i) => `document ${i}${longTail}`);
    const pending = failure(reranker.rank(query, many, { signal: controller.signal }));
    setTimeout(() => controller.abort(), 50);
    expect((await pending).code).toBe('CANCELLED');
    expect(await reranker.rank(query, documents)).toEqual(scores);
  });

  describe('a non-reranker configured as the reranker: MODEL_INVALID, the loaded reranker keeps serving', () => {
    const previousStillServes = async (): Promise<void> => {
      expect(engine.reranker()?.model.path).toBe(models.reranker);
      expect(await engine.reranker()!.rank(query, documents)).toEqual(scores);
      expect(engine.status().reranker).toMatchObject({ state: 'ready', path: models.reranker, error: { code: 'MODEL_INVALID' } });
    };

    it('the chat model', async () => {
      useReranker(models.textModel);
      const error = await failure(engine.load(['reranker']));
      expect(error.code).toBe('MODEL_INVALID');
      expect(error.message).toBe(
        'tiny-llama-chat.gguf: expected a reranker — a cross-encoder with a classification head (tensor "cls.weight" or "cls.output.weight") — found a llama chat model without one',
      );
      await previousStillServes();
    });

    it('the embedding model', async () => {
      useReranker(models.embeddingModel);
      const error = await failure(engine.load(['reranker']));
      expect(error.code).toBe('MODEL_INVALID');
      expect(error.message).toMatch(/^tiny-llama-embedding\.gguf: expected a reranker .* found a llama embedding model \(pooling mean\) without one$/);
      await previousStillServes();
    });

    it('a vision projector', async () => {
      useReranker(models.mmproj);
      const error = await failure(engine.load(['reranker']));
      expect(error.code).toBe('MODEL_INVALID');
      expect(error.message).toBe('tiny-mmproj-mlp.gguf: expected a language model for the reranker role, found a vision projector (mmproj)');
      await previousStillServes();
    });

    it('and the reranker refused in the embedding role, naming where it belongs', async () => {
      useReranker(models.reranker, { embedding: models.reranker });
      const error = await failure(engine.load(['embedding']));
      expect(error.code).toBe('MODEL_INVALID');
      expect(error.message).toBe(
        'tiny-bert-reranker.gguf: expected an embedding model for the embedding role, found a reranker (a bert cross-encoder with a classification head: cls.weight, cls.output.weight) — choose it as the reranker',
      );
      expect(engine.embedder()).toBeNull();
    });
  });

  it('serves a Qwen3-style decoder reranker too (rerank template, softmax head): scores per document in (0, 1)', async () => {
    useReranker(models.qwen3Reranker, { embedding: null });
    const status = await engine.load(['reranker']);
    expect(status.reranker).toMatchObject({ state: 'ready', path: models.qwen3Reranker, error: null });
    const reranker = engine.reranker()!;
    const qwen = await reranker.rank(query, documents);
    for (const score of qwen) {
      expect(score).toBeGreaterThan(0);
      expect(score).toBeLessThan(1);
    }
    expect(new Set(qwen).size).toBe(documents.length);
    expect(await reranker.rank(query, [...documents].reverse())).toEqual([...qwen].reverse());
    expect(qwen).not.toEqual(scores);
  });
});
