import { describe, expect, it, vi } from 'vitest';
import { CancelledError } from '../../errors/AppError';
import type { GeneratedToken } from '../ports';
import { EngineSupervisor, nativeLineLevel, type EngineProcess } from './EngineSupervisor';
import type { ChildMessage, ParentMessage } from './protocol';
import { TokenBatcher } from './TokenBatcher';

/** A scripted engine process: records what the supervisor sends and lets the test answer, print or die. */
class FakeProcess implements EngineProcess {
  static nextPid = 1000;
  readonly pid = FakeProcess.nextPid++;
  readonly sent: ParentMessage[] = [];
  #message: ((m: ChildMessage) => void)[] = [];
  #output: ((stream: 'stdout' | 'stderr', line: string) => void)[] = [];
  #exit: ((exit: { code: number | null; signal: string | null }) => void)[] = [];
  constructor(private readonly autoAnswer: (request: Extract<ParentMessage, { kind: 'request' }>) => unknown) {}
  send(message: ParentMessage): void {
    this.sent.push(message);
    if (message.kind === 'request') {
      const answer = this.autoAnswer(message);
      if (answer !== undefined) queueMicrotask(() => this.reply({ kind: 'response', id: message.id, ok: true, result: answer }));
    }
  }
  reply(message: ChildMessage): void {
    this.#message.forEach((l) => l(message));
  }
  print(line: string): void {
    this.#output.forEach((l) => l('stderr', line));
  }
  die(code: number | null, signal: string | null): void {
    this.#exit.forEach((l) => l({ code, signal }));
  }
  onMessage(listener: (m: ChildMessage) => void): void {
    this.#message.push(listener);
  }
  onOutput(listener: (stream: 'stdout' | 'stderr', line: string) => void): void {
    this.#output.push(listener);
  }
  onExit(listener: (exit: { code: number | null; signal: string | null }) => void): void {
    this.#exit.push(listener);
  }
  kill(): void {
    queueMicrotask(() => this.die(null, 'SIGTERM'));
  }
}

function harness() {
  const processes: FakeProcess[] = [];
  const logs: string[] = [];
  const supervisor = new EngineSupervisor({
    spawner: () => {
      const p = new FakeProcess((request) => {
        if (request.method === 'hello') return { pid: 1, llamaNodeBuild: 'test' };
        if (request.method === 'reasoner.load') return { hasVision: false, mediaMarker: '<__media__>', contextSize: 512, gpuLayers: 0 };
        return undefined;
      });
      processes.push(p);
      return p;
    },
    restartDelayMs: { initial: 5, max: 20 },
    logLevel: () => 'debug',
    log: (level, text) => logs.push(`${level} ${text}`),
  });
  return { supervisor, processes, logs };
}

const requests = (p: FakeProcess) => p.sent.filter((m): m is Extract<ParentMessage, { kind: 'request' }> => m.kind === 'request');

describe('EngineSupervisor', () => {
  it('streams token batches to the caller and resolves with the response', async () => {
    const { supervisor, processes } = harness();
    const seen: GeneratedToken[] = [];
    const call = supervisor.call('session.probe', { session: 's' }, { onTokens: (t) => seen.push(...t) });
    await vi.waitFor(() => expect(requests(processes[0]!).some((r) => r.method === 'session.probe')).toBe(true));
    const id = requests(processes[0]!).find((r) => r.method === 'session.probe')!.id;
    const token = { text: 'a', tokenId: 1, probability: 0.5, topAlternatives: [] };
    processes[0]!.reply({ kind: 'tokens', id, tokens: [token, token] });
    processes[0]!.reply({ kind: 'response', id, ok: true, result: { top: [], candidates: [] } });
    await expect(call).resolves.toEqual({ top: [], candidates: [] });
    expect(seen).toHaveLength(2);
    await supervisor.dispose();
  });

  it('sends an abort for a cancelled call and rebuilds CANCELLED as a CancelledError', async () => {
    const { supervisor, processes } = harness();
    const controller = new AbortController();
    const call = supervisor.call('session.probe', { session: 's' }, { signal: controller.signal, doing: 'probing x.gguf' });
    await vi.waitFor(() => expect(requests(processes[0]!).some((r) => r.method === 'session.probe')).toBe(true));
    const id = requests(processes[0]!).find((r) => r.method === 'session.probe')!.id;
    controller.abort();
    expect(processes[0]!.sent).toContainEqual({ kind: 'abort', id });
    processes[0]!.reply({ kind: 'response', id, ok: false, error: { code: 'CANCELLED', message: 'probe was cancelled' } });
    await expect(call).rejects.toBeInstanceOf(CancelledError);
    await supervisor.dispose();
  });

  it('rejects in-flight calls with ENGINE_CRASHED naming the work, the file and the signal, then restarts and reloads', async () => {
    const { supervisor, processes, logs } = harness();
    await supervisor.call('reasoner.load', {
      handle: 'r1',
      model: { path: '/m/good.gguf', name: 'good', sha256: 'x', sizeBytes: 1 },
      projector: null,
      contextSize: 512,
      threads: 1,
      gpuLayers: 0,
      mmprojOffload: false,
    });
    supervisor.remember('r1', 'reasoner.load', { handle: 'r1' }, 'good.gguf');
    const generation = supervisor.generation;
    const call = supervisor.call('session.start', { session: 's', messages: [], options: {} }, { doing: 'generating with good.gguf + bad-mmproj.gguf' });
    await vi.waitFor(() => expect(requests(processes[0]!).some((r) => r.method === 'session.start')).toBe(true));
    processes[0]!.print('GGML_ASSERT(n_pos <= pos_embd->ne[1]) failed');
    processes[0]!.die(134, 'SIGABRT');
    const error = (await call.then(
      () => null,
      (e: unknown) => e,
    )) as { code: string; message: string };
    expect(error.code).toBe('ENGINE_CRASHED');
    expect(error.message).toMatch(/died from SIGABRT \(exit code 134\) while generating with good\.gguf \+ bad-mmproj\.gguf/);
    expect(error.message).toMatch(/GGML_ASSERT/);
    expect(supervisor.generation).toBeGreaterThan(generation);
    expect(supervisor.crashes[0]).toMatchObject({ signal: 'SIGABRT', code: 134, interrupted: ['generating with good.gguf + bad-mmproj.gguf'] });
    // The next call waits for the restart and the reload of the remembered model.
    const probe = supervisor.call('session.probe', { session: 's2' });
    await vi.waitFor(() => expect(processes).toHaveLength(2));
    await vi.waitFor(() => expect(requests(processes[1]!).map((r) => r.method)).toContain('session.probe'));
    const methods = requests(processes[1]!).map((r) => r.method);
    expect(methods.indexOf('reasoner.load')).toBeLessThan(methods.indexOf('session.probe'));
    expect(supervisor.restarts).toBe(1);
    expect(logs.some((l) => l.startsWith('error') && l.includes('GGML_ASSERT'))).toBe(true);
    const id = requests(processes[1]!).find((r) => r.method === 'session.probe')!.id;
    processes[1]!.reply({ kind: 'response', id, ok: true, result: { top: [], candidates: [] } });
    await expect(probe).resolves.toBeTruthy();
    await supervisor.dispose();
  });

  it('names the signal from an exit code above 128 (utilityProcess reports codes only)', async () => {
    const { supervisor, processes } = harness();
    const call = supervisor.call('session.probe', { session: 's' }, { doing: 'probing a.gguf' });
    await vi.waitFor(() => expect(requests(processes[0]!).some((r) => r.method === 'session.probe')).toBe(true));
    processes[0]!.die(139, null);
    await expect(call).rejects.toMatchObject({ code: 'ENGINE_CRASHED', message: expect.stringMatching(/SIGSEGV \(exit code 139\)/) });
    await supervisor.dispose();
  });

  it('sorts llama.cpp output lines into log levels', () => {
    expect(nativeLineLevel('GGML_ASSERT(x) failed')).toBe('error');
    expect(nativeLineLevel('set_abort_callback: call')).toBe('info');
    expect(nativeLineLevel('llama_context: warning: n_ctx_seq < n_ctx_train')).toBe('warn');
    expect(nativeLineLevel('[INFO] loadPrompt: prompt_tokens = 1 2 3')).toBe('debug');
    expect(nativeLineLevel('llama_model_loader: loaded meta data')).toBe('info');
  });
});

describe('TokenBatcher', () => {
  it('sends the first token at once and coalesces the rest', async () => {
    vi.useFakeTimers();
    try {
      const batches: number[] = [];
      const batcher = new TokenBatcher((tokens) => batches.push(tokens.length), 8);
      const token = { text: 'x', tokenId: 0, probability: 1, topAlternatives: [] };
      batcher.push(token);
      expect(batches).toEqual([1]);
      for (let i = 0; i < 50; i++) batcher.push(token);
      expect(batches).toEqual([1]);
      vi.advanceTimersByTime(8);
      expect(batches).toEqual([1, 50]);
      batcher.push(token);
      batcher.flush();
      expect(batches).toEqual([1, 50, 1]);
    } finally {
      vi.useRealTimers();
    }
  });
});
