import { constants } from 'node:os';
import { basename } from 'node:path';
import type { LogLevel } from '../../../shared/contract';
import { AppError, CancelledError } from '../../errors/AppError';
import { EngineError, engineErrorFromPayload } from '../engineErrors';
import type { GeneratedToken } from '../ports';
import { NativeOutputFilter } from './NativeOutputFilter';
import type { ChildMessage, EngineMethod, EngineMethods, ParentMessage } from './protocol';

/** One engine process as the supervisor sees it, whatever started it (child_process.fork, utilityProcess). */
export interface EngineProcess {
  readonly pid: number | undefined;
  send(message: ParentMessage): void;
  onMessage(listener: (message: ChildMessage) => void): void;
  /** Lines the process wrote to stdout/stderr (llama.cpp logs there). */
  onOutput(listener: (stream: 'stdout' | 'stderr', line: string) => void): void;
  onExit(listener: (exit: { code: number | null; signal: string | null }) => void): void;
  kill(): void;
}

export type EngineSpawner = () => EngineProcess;

export interface EngineCrash {
  at: string;
  pid: number | undefined;
  code: number | null;
  signal: string | null;
  /** What the engine was doing with which file(s), for each request the crash interrupted. */
  interrupted: string[];
  /** The last lines the process wrote (a GGML_ASSERT names its cause there), prompt text withheld. */
  lastOutput: string[];
}

export interface EngineSupervisorOptions {
  spawner: EngineSpawner;
  /** Level at which the engine's own log lines are passed to `log`. Defaults to 'warn'. */
  logLevel?: () => LogLevel;
  log?: (level: LogLevel, text: string) => void;
  /** Restart delay after a crash: doubles per consecutive crash. Defaults to 200 ms up to 10 s. */
  restartDelayMs?: { initial: number; max: number };
  onCrash?: (crash: EngineCrash) => void;
  /** Process up or down, restarts, reloads. */
  onChange?: () => void;
}

interface CallOptions {
  signal?: AbortSignal;
  onTokens?: (tokens: GeneratedToken[]) => void;
  /** "loading the vision projector x.gguf", "generating with y.gguf": named in ENGINE_CRASHED. */
  doing?: string;
}

interface Pending {
  method: EngineMethod;
  doing: string;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  onTokens?: (tokens: GeneratedToken[]) => void;
  cleanup: () => void;
}

const levels: LogLevel[] = ['error', 'warn', 'info', 'debug'];

/** llama.cpp writes everything to stdout/stderr; this sorts its lines into log levels. */
export function nativeLineLevel(line: string): LogLevel {
  if (/GGML_ASSERT|\berror\b|\bfailed\b|\bfatal\b|\baborted?\b|segmentation fault|\bexception\b/i.test(line)) return 'error';
  if (/\bwarn(ing)?\b/i.test(line)) return 'warn';
  if (/^\[(INFO|DEBUG|VERBOSE)\]/.test(line)) return 'debug';
  return 'info';
}

function describeExit(code: number | null, signal: string | null): string {
  let name = signal;
  if (!name && code !== null && code > 128) {
    name = Object.entries(constants.signals).find(([, n]) => n === code - 128)?.[0] ?? null;
  }
  if (name && code !== null) return `${name} (exit code ${code})`;
  if (name) return name;
  return `exit code ${code ?? 'unknown'}`;
}

/**
 * Runs the model runtimes in a child process and keeps it alive: requests and streamed tokens cross a typed
 * protocol; when the process dies, every in-flight request rejects with ENGINE_CRASHED naming the file and the
 * signal, the process is restarted with backoff, and the models that had loaded are loaded again.
 */
export class EngineSupervisor {
  readonly #options: EngineSupervisorOptions;
  #process: EngineProcess | null = null;
  #ready: Promise<void> | null = null;
  readonly #pending = new Map<number, Pending>();
  readonly #resources = new Map<string, { method: EngineMethod; params: unknown; doing: string }>();
  #nextId = 1;
  #generation = 0;
  #consecutiveCrashes = 0;
  #lastOutput: string[] = [];
  #restartTimer: NodeJS.Timeout | null = null;
  #restartNow: (() => void) | null = null;
  #disposed = false;
  #stableTimer: NodeJS.Timeout | null = null;
  /** Restarts after a crash since the supervisor was created. */
  restarts = 0;
  readonly crashes: EngineCrash[] = [];

  constructor(options: EngineSupervisorOptions) {
    this.#options = options;
  }

  get alive(): boolean {
    return this.#process !== null;
  }

  get pid(): number | undefined {
    return this.#process?.pid;
  }

  /** Increases with every process start: a session opened in an earlier process is gone. */
  get generation(): number {
    return this.#generation;
  }

  /** Starts the process if it is not running (calls do this themselves). */
  start(): Promise<void> {
    if (this.#disposed) return Promise.reject(new EngineError('ENGINE_DISPOSED', 'expected a running engine, found it shut down'));
    // After a crash #ready is the pending restart (backoff, spawn, reloads): callers wait for the models to be back.
    this.#ready ??= this.#spawn().then(() => this.#reload());
    this.#ready.catch(() => (this.#ready = null));
    return this.#ready;
  }

  #log(level: LogLevel, text: string): void {
    const threshold = this.#options.logLevel?.() ?? 'warn';
    if (levels.indexOf(level) <= levels.indexOf(threshold)) this.#options.log?.(level, text);
  }

  async #spawn(): Promise<void> {
    const child = this.#options.spawner();
    this.#process = child;
    this.#generation++;
    this.#lastOutput = [];
    child.onMessage((message) => this.#onMessage(message));
    const filters = { stdout: new NativeOutputFilter(), stderr: new NativeOutputFilter() };
    child.onOutput((stream, raw) => {
      if (!raw.trim()) return;
      const line = filters[stream].filter(raw);
      if (line === null) return;
      this.#lastOutput.push(line);
      if (this.#lastOutput.length > 40) this.#lastOutput.shift();
      this.#log(stream === 'stderr' && nativeLineLevel(line) === 'info' ? 'info' : nativeLineLevel(line), `[engine ${child.pid}] ${line}`);
    });
    child.onExit((exit) => this.#onExit(child, exit));
    this.#options.onChange?.();
    await this.#send('hello', { logLevel: this.#options.logLevel?.() ?? 'warn' }, { doing: 'starting' }, child);
  }

  #onMessage(message: ChildMessage): void {
    if (message.kind === 'log') {
      this.#log(message.level, `[engine] ${message.text}`);
      return;
    }
    const pending = this.#pending.get(message.id);
    if (!pending) return;
    if (message.kind === 'tokens') {
      pending.onTokens?.(message.tokens);
      return;
    }
    this.#pending.delete(message.id);
    pending.cleanup();
    if (message.ok) pending.resolve(message.result);
    else if (message.error.code === 'CANCELLED') pending.reject(new CancelledError(pending.doing || 'the request'));
    else pending.reject(engineErrorFromPayload(message.error));
  }

  #onExit(child: EngineProcess, exit: { code: number | null; signal: string | null }): void {
    if (this.#process !== child) return;
    this.#process = null;
    this.#ready = null;
    // Sessions of the process that died are gone, whether or not a new process has started yet.
    this.#generation++;
    if (this.#stableTimer) clearTimeout(this.#stableTimer);
    const cause = describeExit(exit.code, exit.signal);
    const lastOutput = [...this.#lastOutput];
    const telling = [...lastOutput].reverse().find((l) => nativeLineLevel(l) === 'error') ?? lastOutput.at(-1) ?? '';
    const interrupted = [...this.#pending.values()].map((p) => p.doing);
    const crash: EngineCrash = { at: new Date().toISOString(), pid: child.pid, code: exit.code, signal: exit.signal, interrupted, lastOutput };
    for (const [id, pending] of this.#pending) {
      this.#pending.delete(id);
      pending.cleanup();
      if (this.#disposed) {
        pending.reject(new EngineError('ENGINE_DISPOSED', `expected a running engine, found it shut down while ${pending.doing}`));
        continue;
      }
      pending.reject(
        new EngineError(
          'ENGINE_CRASHED',
          `the engine process died from ${cause} while ${pending.doing}; the app keeps running and the engine restarts${telling ? ` — last engine output: ${telling.trim().slice(0, 300)}` : ''}`,
          { details: { signal: exit.signal, code: exit.code, doing: pending.doing, lastOutput: lastOutput.slice(-10) } },
        ),
      );
    }
    if (this.#disposed) return;
    this.crashes.push(crash);
    this.#log('error', `engine process ${child.pid} died from ${cause}${interrupted.length ? ` while ${interrupted.join('; ')}` : ''}`);
    this.#options.onCrash?.(crash);
    this.#consecutiveCrashes++;
    const { initial, max } = this.#options.restartDelayMs ?? { initial: 200, max: 10_000 };
    const delay = Math.min(max, initial * 2 ** (this.#consecutiveCrashes - 1));
    this.#options.onChange?.();
    this.#ready = new Promise<void>((resolve) => {
      this.#restartNow = resolve;
      this.#restartTimer = setTimeout(resolve, delay);
    }).then(() => this.#restart());
    this.#ready.catch(() => (this.#ready = null));
  }

  async #restart(): Promise<void> {
    this.#restartTimer = null;
    this.#restartNow = null;
    if (this.#disposed) throw new EngineError('ENGINE_DISPOSED', 'expected a running engine, found it shut down');
    this.restarts++;
    try {
      await this.#spawn();
      // The app's models are back before anything else runs.
      await this.#reload();
      // Stable for a while: the next crash starts the backoff again from its initial delay.
      this.#stableTimer = setTimeout(() => (this.#consecutiveCrashes = 0), 30_000);
      this.#stableTimer.unref();
    } catch (error) {
      this.#log('error', `engine restart failed: ${(error as Error).message}`);
      throw error;
    } finally {
      this.#options.onChange?.();
    }
  }

  /** The last good models come back; one whose reload fails (or crashes again) is dropped, not retried forever. */
  async #reload(): Promise<void> {
    for (const [handle, resource] of [...this.#resources]) {
      try {
        await this.#send(resource.method, resource.params as never, { doing: `reloading ${resource.doing}` });
      } catch (error) {
        this.#resources.delete(handle);
        this.#log('error', `could not reload ${resource.doing} after a restart: ${(error as Error).message}`);
        if (error instanceof EngineError && error.code === 'ENGINE_CRASHED') return;
      }
    }
  }

  /** Remembers a successful load so that it is replayed after a restart. */
  remember(handle: string, method: EngineMethod, params: unknown, doing: string): void {
    this.#resources.set(handle, { method, params, doing });
  }

  forget(handle: string): void {
    this.#resources.delete(handle);
  }

  async call<M extends EngineMethod>(method: M, params: EngineMethods[M]['params'], options: CallOptions = {}): Promise<EngineMethods[M]['result']> {
    if (options.signal?.aborted) throw new CancelledError(options.doing ?? method);
    await this.start();
    return this.#send(method, params, options);
  }

  #send<M extends EngineMethod>(
    method: M,
    params: EngineMethods[M]['params'],
    options: CallOptions,
    target: EngineProcess | null = this.#process,
  ): Promise<EngineMethods[M]['result']> {
    return new Promise((resolve, reject) => {
      if (!target) {
        reject(new EngineError('ENGINE_CRASHED', `expected a running engine process, found none (it is restarting) while ${options.doing ?? method}`));
        return;
      }
      const id = this.#nextId++;
      const onAbort = (): void => {
        try {
          target.send({ kind: 'abort', id });
        } catch {
          // The process is gone; its exit rejects the call.
        }
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(id, {
        method,
        doing: options.doing ?? method,
        resolve: resolve as (value: unknown) => void,
        reject,
        ...(options.onTokens ? { onTokens: options.onTokens } : {}),
        cleanup: () => options.signal?.removeEventListener('abort', onAbort),
      });
      try {
        target.send({ kind: 'request', id, method, params });
      } catch (error) {
        this.#pending.delete(id);
        options.signal?.removeEventListener('abort', onAbort);
        reject(new AppError('INTERNAL', `could not send "${method}" to the engine: ${(error as Error).message}`));
      }
    });
  }

  /** Stops the engine process; pending calls reject with ENGINE_DISPOSED. */
  async dispose(): Promise<void> {
    this.#disposed = true;
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    if (this.#stableTimer) clearTimeout(this.#stableTimer);
    // Callers waiting for a pending restart get ENGINE_DISPOSED instead of waiting forever.
    this.#restartNow?.();
    const child = this.#process;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.onExit(() => resolve()));
    child.kill();
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))]);
    this.#process = null;
    for (const [id, pending] of this.#pending) {
      this.#pending.delete(id);
      pending.cleanup();
      pending.reject(new EngineError('ENGINE_DISPOSED', `expected a running engine, found it shut down while ${pending.doing}`));
    }
  }
}

export const describeFiles = (...paths: (string | null | undefined)[]): string =>
  paths.filter((p): p is string => !!p).map((p) => basename(p)).join(' + ');
