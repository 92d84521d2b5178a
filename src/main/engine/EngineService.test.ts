import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTinyModels, type TinyModels } from '../../../tests/fixtures/gguf/tinyModels';
import type { EngineStatus, Settings } from '../../shared/contract';
import { defaultSettings } from '../settings/defaultSettings';
import { EngineService } from './EngineService';
import { failure } from './testing/failure';

/**
 * The app's model-loading path, end to end: validation, hashing, the engine process, the ports. Every typed error
 * comes from a real file (or a real oversized request); a failed load leaves the previous model serving.
 */
let models: TinyModels;
let dir: string;
let engine: EngineService;
let settings: Settings;
const statuses: EngineStatus[] = [];

const useModels = (patch: Partial<Settings['models']>, engineSettings: Partial<Settings['engine']> = {}): void => {
  settings = { ...settings, models: { ...settings.models, ...patch }, engine: { ...settings.engine, ...engineSettings } };
};

beforeAll(async () => {
  models = await ensureTinyModels();
  dir = await mkdtemp(join(tmpdir(), 'engine-service-'));
  settings = defaultSettings();
  settings.engine = { ...settings.engine, threads: 1, contextSize: 512, gpuLayers: 0, mmprojOffload: false };
  engine = new EngineService({ settings: { get: () => settings }, logDir: dir, emitStatus: (s) => statuses.push(s) });
});

afterAll(async () => {
  await engine?.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('EngineService', () => {
  it('inspects a GGUF without loading it, with its sha256 (computed once, then cached)', async () => {
    const inspection = await engine.inspect(models.textModel);
    expect(inspection).toMatchObject({
      architecture: 'llama',
      embeddingLength: 64,
      contextLength: 2048,
      hasChatTemplate: true,
      isVisionProjector: false,
      quantization: 'F32',
      problems: [],
    });
    expect(inspection.sha256).toMatch(/^[0-9a-f]{64}$/);
    const projector = await engine.inspect(models.mmproj);
    expect(projector).toMatchObject({ isVisionProjector: true, projectorType: 'mlp', outputLength: 64, problems: [] });
  });

  it('loads the reasoner with its projector in the engine process and serves sessions through the port', async () => {
    useModels({ reasoner: models.textModel, mmproj: models.mmproj });
    const status = await engine.load(['reasoner', 'mmproj']);
    expect(status.reasoner).toMatchObject({ state: 'ready', path: models.textModel, error: null });
    expect(status.reasoner.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(status.visionReady).toBe(true);
    expect(status.processAlive).toBe(true);
    expect(status.threads).toBe(1);
    // GPU detection ran in the engine process before the first load (this machine: CPU only, no VRAM).
    expect(status.gpu?.backend).toMatch(/^(cpu|cuda|vulkan|metal)$/);
    expect(statuses.some((s) => s.reasoner.state === 'loading')).toBe(true);
    const reasoner = engine.reasoner()!;
    expect(reasoner.model.sha256).toBe(status.reasoner.sha256);
    const session = await reasoner.createSession();
    const tokens: string[] = [];
    const result = await session.start([{ role: 'user', content: 'What is shown?', images: [{ path: models.images.gradient }] }], {
      maxTokens: 8,
      onToken: (t) => tokens.push(t.text),
    });
    expect(result.generatedTokens).toBe(8);
    expect(tokens.join('')).toBe(result.text);
  });

  it('loads the embedding model and embeds through the port', async () => {
    useModels({ embedding: models.embeddingModel });
    const status = await engine.load(['embedding']);
    expect(status.embedding.state).toBe('ready');
    const vectors = await engine.embedder()!.embed(['left lower lobe consolidation', 'normal study']);
    expect(vectors).toHaveLength(2);
    expect(vectors[0]).toHaveLength(models.embeddingModelDimensions);
    const norm = Math.hypot(...vectors[0]!);
    expect(norm).toBeCloseTo(1, 5);
  });

  it('routes native llama.cpp output into engine.log at the chosen level (the console stays quiet)', async () => {
    const { readFile } = await import('node:fs/promises');
    const before = (await readFile(engine.logPath, 'utf8').catch(() => '')).length;
    useModels({ reasoner: models.textModel, mmproj: models.mmproj }, { logLevel: 'debug' });
    await engine.load(['reasoner']);
    // The log is written by a stream: its last lines may land just after load() resolves.
    const sinceBefore = async (): Promise<string> => (await readFile(engine.logPath, 'utf8')).slice(before);
    await expect.poll(sinceBefore).toMatch(/INFO {2}loaded reasoner/);
    const debugLines = await sinceBefore();
    // llama.cpp's model loader and llama.node's own [INFO] lines, both from the engine process's output.
    expect(debugLines).toMatch(/\[engine \d+\] .*llama_model_loader/);
    expect(debugLines).toMatch(/DEBUG .*\[engine \d+\] \[INFO\]/);

    // Even at debug, the prompt llama.node and mtmd echo (the question, passages, case reports) stays out of the log.
    const question = 'Is the left hilar mass in patient Zebulon Quarry new since the prior study?';
    const session = await engine.reasoner()!.createSession();
    await session.start([{ role: 'user', content: question, images: [{ path: models.images.gradient }] }], { maxTokens: 2 });
    await session.continue(' <retrieve> (1) Hilar masses in Zebulon Quarry: see prior. </retrieve>', { maxTokens: 2 });
    await session.dispose();
    await expect.poll(async () => (await readFile(engine.logPath, 'utf8')).slice(before)).toMatch(/prompt text withheld/);
    expect(await readFile(engine.logPath, 'utf8')).not.toMatch(/Zebulon|Quarry|hilar mass/i);

    const mark = (await readFile(engine.logPath, 'utf8')).length;
    useModels({}, { logLevel: 'warn' });
    await engine.load(['reasoner']);
    const quiet = (await readFile(engine.logPath, 'utf8')).slice(mark);
    expect(quiet).not.toMatch(/llama_model_loader|\[INFO\]|loaded reasoner/);
    useModels({}, { logLevel: 'warn' });
  });

  describe('typed errors from real bad files; the previous model keeps serving', () => {
    const previousStillServes = async (): Promise<void> => {
      const reasoner = engine.reasoner();
      expect(reasoner?.model.path).toBe(models.textModel);
      const result = await (await reasoner!.createSession()).start([{ role: 'user', content: 'still there?' }], { maxTokens: 3 });
      expect(result.generatedTokens).toBe(3);
      expect(engine.status().reasoner.state).toBe('ready');
      expect(engine.status().reasoner.error).not.toBeNull();
    };

    it('MODEL_NOT_FOUND: a path with no file', async () => {
      useModels({ reasoner: join(dir, 'missing.gguf'), mmproj: null });
      const error = await failure(engine.load(['reasoner']));
      expect(error.code).toBe('MODEL_NOT_FOUND');
      expect(error.message).toMatch(/expected a model file at .*missing\.gguf, found nothing there/);
      await previousStillServes();
    });

    it('MODEL_NOT_GGUF: a text file named .gguf', async () => {
      useModels({ reasoner: models.notGguf, mmproj: null });
      const error = await failure(engine.load(['reasoner']));
      expect(error.code).toBe('MODEL_NOT_GGUF');
      expect(error.message).toMatch(/expected a GGUF file \(magic "GGUF"\), found "This"/);
      await previousStillServes();
    });

    it('MODEL_TRUNCATED: a model cut short', async () => {
      useModels({ reasoner: models.truncatedModel, mmproj: null });
      const error = await failure(engine.load(['reasoner']));
      expect(error.code).toBe('MODEL_TRUNCATED');
      expect(error.message).toMatch(/truncated/);
      await previousStillServes();
    });

    it('MMPROJ_MISMATCH: a projector whose output width is not the model\'s', async () => {
      useModels({ reasoner: models.textModel, mmproj: models.malformedProjectors['wrong-n_embd'] });
      const error = await failure(engine.load(['reasoner', 'mmproj']));
      expect(error.code).toBe('MMPROJ_MISMATCH');
      expect(error.message).toMatch(/embedding length 64, found 32/);
      await previousStillServes();
    });

    it.skipIf(process.platform === 'win32')('ENGINE_OUT_OF_MEMORY: a model that claims 1 TiB of weights', async () => {
      useModels({ reasoner: models.oversizedModel!, mmproj: null });
      const error = await failure(engine.load(['reasoner']));
      expect(error.code).toBe('ENGINE_OUT_OF_MEMORY');
      expect(error.message).toMatch(/expected about 1024\.\d GiB of free memory to load it, found [\d.]+ [GM]iB available/);
      await previousStillServes();
    });

    it('MODEL_NO_VISION: an image for a reasoner loaded without a projector', async () => {
      useModels({ reasoner: models.textModel, mmproj: null });
      await engine.load(['reasoner']);
      expect(engine.status().visionReady).toBe(false);
      const session = await engine.reasoner()!.createSession();
      const error = await failure(session.start([{ role: 'user', content: 'x', images: [{ path: models.images.gradient }] }], { maxTokens: 2 }));
      expect(error.code).toBe('MODEL_NO_VISION');
      expect(error.message).toMatch(/expected a reasoner with a vision projector/);
    });

    it('CONTEXT_OVERFLOW: a transcript longer than the context window', async () => {
      const session = await engine.reasoner()!.createSession();
      const error = await failure(session.start([{ role: 'user', content: 'chest '.repeat(400) }], { maxTokens: 2 }));
      expect(error.code).toBe('CONTEXT_OVERFLOW');
      expect(error.message).toMatch(/context window of 512 tokens, found \d+ tokens/);
      const fine = await (await engine.reasoner()!.createSession()).start([{ role: 'user', content: 'ok' }], { maxTokens: 2 });
      expect(fine.generatedTokens).toBe(2);
    });
  });
});
