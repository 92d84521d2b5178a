import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTinyModels, type TinyModels } from '../../../tests/fixtures/gguf/tinyModels';
import { projectorDefects, type ProjectorDefect } from '../../../tests/fixtures/gguf/tinyProjector';
import type { Settings } from '../../shared/contract';
import { defaultSettings } from '../settings/defaultSettings';
import { EngineService } from './EngineService';
import type { ModelIdentity } from './ports';
import { EngineSupervisor } from './process/EngineSupervisor';
import { nodeEngineSpawner } from './process/nodeSpawner';
import { RemoteReasoner } from './process/remote';

const sharedDefects = resolve(import.meta.dirname, '../../../../shared/models/malformed-projectors');
const hasShared = existsSync(sharedDefects);

/** Why validation refuses each defect (../shared/models/README.md lists what each does to llama.node). */
const refusal: Record<Exclude<ProjectorDefect, 'no-attn_q'>, { code: string; reason: RegExp }> = {
  'image_size-i32': { code: 'MODEL_INVALID', reason: /metadata "clip\.vision\.image_size": expected U32, found I32/ },
  'pos_embd-too-small': { code: 'MODEL_INVALID', reason: /"v\.position_embd\.weight": expected 16 positions .*found 9/ },
  'no-mm0-bias': { code: 'MODEL_INVALID', reason: /tensor "mm\.0\.bias": expected it to be present/ },
  'no-mm2': { code: 'MODEL_INVALID', reason: /tensor "mm\.2\.weight": expected it to be present/ },
  'no-pos_embd': { code: 'MODEL_INVALID', reason: /tensor "v\.position_embd\.weight": expected it to be present/ },
  'no-has_vision': { code: 'MODEL_INVALID', reason: /"clip\.has_vision_encoder": expected BOOL true, found none/ },
  'no-image_mean': { code: 'MODEL_INVALID', reason: /"clip\.vision\.image_mean": expected it to be present/ },
  'no-projection_dim': { code: 'MODEL_INVALID', reason: /"clip\.vision\.projection_dim": expected it to be present/ },
  'wrong-n_embd': { code: 'MMPROJ_MISMATCH', reason: /embedding length 64, found 32/ },
};

const identity = (path: string): ModelIdentity => ({ path, name: path.split('/').pop()!, sha256: 'test', sizeBytes: 0 });

let models: TinyModels;
let dir: string;
let settings: Settings;
let engine: EngineService;

beforeAll(async () => {
  models = await ensureTinyModels();
  dir = await mkdtemp(join(tmpdir(), 'malformed-'));
  settings = defaultSettings();
  settings.engine = { ...settings.engine, threads: 1, contextSize: 512, gpuLayers: 0, mmprojOffload: false };
  engine = new EngineService({ settings: { get: () => settings }, logDir: dir });
});

afterAll(async () => {
  await engine?.dispose();
  await rm(dir, { recursive: true, force: true });
});

async function loadThroughApp(mmproj: string): Promise<{ code: string; message: string } | null> {
  settings = { ...settings, models: { ...settings.models, reasoner: models.textModel, mmproj } };
  return engine.load(['reasoner', 'mmproj']).then(
    () => null,
    (e: unknown) => e as { code: string; message: string },
  );
}

describe('every malformed projector through the app\'s model-loading path', () => {
  for (const defect of projectorDefects) {
    it(`${defect} (generated with the same defect)`, async () => {
      const error = await loadThroughApp(models.malformedProjectors[defect]);
      if (defect === 'no-attn_q') {
        // block_count 1 runs no vision block, so the missing query weights are never used: it loads and sees.
        expect(error).toBeNull();
        const session = await engine.reasoner()!.createSession();
        const result = await session.start([{ role: 'user', content: 'x', images: [{ path: models.images.gradient }] }], { maxTokens: 2 });
        expect(result.generatedTokens).toBe(2);
        return;
      }
      expect(error, `${defect} should be refused`).not.toBeNull();
      expect(error!.code).toBe(refusal[defect].code);
      expect(error!.message).toMatch(refusal[defect].reason);
      // Refused before any native code saw it: the engine process never restarted.
      expect(engine.status().restarts).toBe(0);
    });
  }

  it.skipIf(!hasShared)('the real files of ../shared/models/malformed-projectors are refused the same way (skipped when absent)', async () => {
    const files = readdirSync(sharedDefects).filter((f) => f.endsWith('.gguf'));
    expect(files.length).toBe(projectorDefects.length);
    for (const file of files) {
      const defect = file.replace(/\.gguf$/, '') as ProjectorDefect;
      const error = await loadThroughApp(join(sharedDefects, file));
      if (defect === 'no-attn_q') {
        expect(error, file).toBeNull();
        continue;
      }
      expect(error?.code, file).toBe(refusal[defect].code);
      expect(error?.message, file).toMatch(refusal[defect].reason);
    }
    expect(engine.status().restarts).toBe(0);
  });
});

describe('what validation would not stop is contained: the engine process dies, the app does not', () => {
  let supervisor: EngineSupervisor;
  let good: RemoteReasoner;
  const load = (mmproj: string) =>
    RemoteReasoner.load(supervisor, {
      model: identity(models.textModel),
      projector: identity(mmproj),
      contextSize: 512,
      threads: 1,
      gpuLayers: 0,
      mmprojOffload: false,
    });

  beforeAll(async () => {
    supervisor = new EngineSupervisor({ spawner: nodeEngineSpawner(), restartDelayMs: { initial: 50, max: 400 } });
    good = await load(models.mmproj);
  });
  afterAll(async () => {
    await supervisor?.dispose();
  });

  const nextRunSucceeds = async (): Promise<void> => {
    // The good reasoner was reloaded by the restarted process: a new session on it works.
    const session = await good.createSession();
    const result = await session.start([{ role: 'user', content: 'after', images: [{ path: models.images.checkerboard }] }], { maxTokens: 3 });
    expect(result.generatedTokens).toBe(3);
  };

  const crashes: [ProjectorDefect, RegExp][] = [
    ['image_size-i32', /SIGABRT/],
    ['no-mm0-bias', /SIGSEGV/],
    ['no-mm2', /SIGSEGV/],
    ['no-pos_embd', /SIGSEGV/],
  ];
  for (const [defect, signal] of crashes) {
    it(`${defect}: loading it kills the engine process → ENGINE_CRASHED naming the file and the signal`, async () => {
      const restartsBefore = supervisor.restarts;
      const error = await load(models.malformedProjectors[defect]).then(
        () => null,
        (e: unknown) => e as { code: string; message: string },
      );
      expect(error?.code).toBe('ENGINE_CRASHED');
      expect(error?.message).toMatch(signal);
      expect(error?.message).toContain(`${defect}.gguf`);
      expect(error?.message).toContain('tiny-llama-chat.gguf');
      await nextRunSucceeds();
      expect(supervisor.restarts).toBe(restartsBefore + 1);
    });
  }

  it('pos_embd-too-small: loads, then aborts at image encode → ENGINE_CRASHED while generating; the next run succeeds', async () => {
    const bad = await load(models.malformedProjectors['pos_embd-too-small']);
    const session = await bad.createSession();
    const error = await session
      .start([{ role: 'user', content: 'x', images: [{ path: models.images.gradient }] }], { maxTokens: 2 })
      .then(
        () => null,
        (e: unknown) => e as { code: string; message: string },
      );
    expect(error?.code).toBe('ENGINE_CRASHED');
    expect(error?.message).toMatch(/SIGABRT/);
    expect(error?.message).toContain('generating with tiny-llama-chat.gguf + pos_embd-too-small.gguf');
    // A session from before the crash says so instead of pretending.
    await expect(session.continue(' more', { maxTokens: 1 })).rejects.toMatchObject({ code: 'ENGINE_CRASHED' });
    await bad.dispose();
    await nextRunSucceeds();
    expect(supervisor.crashes.at(-1)?.signal).toBe('SIGABRT');
  });

  it('the files llama.node refuses cleanly come back as typed load failures without a crash', async () => {
    const restartsBefore = supervisor.restarts;
    for (const defect of ['no-has_vision', 'no-image_mean', 'no-projection_dim', 'wrong-n_embd'] as const) {
      const error = await load(models.malformedProjectors[defect]).then(
        () => null,
        (e: unknown) => e as { code: string; message: string },
      );
      expect(error?.code, defect).toBe('MODEL_LOAD_FAILED');
      expect(error?.message, defect).toContain(`${defect}.gguf`);
    }
    expect(supervisor.restarts).toBe(restartsBefore);
    await nextRunSucceeds();
  });
});
