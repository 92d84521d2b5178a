/**
 * Renderer smoothness in Debian Chromium over the loopback bridge, with the real services and the built renderer:
 * frame intervals while a reasoning run streams at 200 tokens/s (one event per token, the renderer's worst case),
 * against an idle baseline, and while right-dragging window/level on a 512² CT slice.
 * Needs `npm run build` first. Timings depend on the machine's load; ratios are taken in the same run.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { ReasoningEvent } from '../../src/shared/contract';
import { composeApp, type App } from '../../src/main/compose';
import { startLoopbackBridge, type LoopbackBridge } from '../../src/main/ipc/loopbackBridge';
import type { BenchContext, BenchSuite, BenchTable } from '../BenchContext';

const root = resolve(import.meta.dirname, '../..');
const chromiumPath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

interface FrameStats {
  frames: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Share of intervals longer than 1.5 display frames (a visibly dropped frame). */
  dropped: number;
  longTasks: number;
  longTaskMs: number;
}

interface PageGlobals {
  requestAnimationFrame(callback: (time: number) => void): number;
  performance: { now(): number };
  PerformanceObserver: new (callback: (list: { getEntries(): { duration: number }[] }) => void) => {
    observe(options: { type: string; buffered: boolean }): void;
    disconnect(): void;
  };
  __benchStop?: () => { intervals: number[]; longTasks: number[] };
}

/** Runs in the page (no string eval: the CSP forbids it): records frame intervals and long tasks until stopped. */
function installRecorder(): void {
  const page = globalThis as unknown as PageGlobals;
  const intervals: number[] = [];
  const longTasks: number[] = [];
  let last = page.performance.now();
  let running = true;
  const tick = (time: number): void => {
    intervals.push(time - last);
    last = time;
    if (running) page.requestAnimationFrame(tick);
  };
  page.requestAnimationFrame((time) => {
    last = time;
    page.requestAnimationFrame(tick);
  });
  const observer = new page.PerformanceObserver((list) => {
    for (const entry of list.getEntries()) longTasks.push(entry.duration);
  });
  try {
    observer.observe({ type: 'longtask', buffered: false });
  } catch {
    // Long-task timing is optional: frame intervals are the measure.
  }
  page.__benchStop = () => {
    running = false;
    observer.disconnect();
    return { intervals, longTasks };
  };
}

function stopRecorder(): { intervals: number[]; longTasks: number[] } {
  return (globalThis as unknown as PageGlobals).__benchStop!();
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function record(page: Page, during: () => Promise<void>): Promise<FrameStats> {
  await page.evaluate(installRecorder);
  await during();
  const { intervals, longTasks } = await page.evaluate(stopRecorder);
  const sorted = [...intervals].sort((a, b) => a - b);
  const frame = quantile(sorted, 0.5);
  return {
    frames: intervals.length,
    p50: frame,
    p95: quantile(sorted, 0.95),
    p99: quantile(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    dropped: intervals.filter((i) => i > frame * 1.5).length / Math.max(1, intervals.length),
    longTasks: longTasks.length,
    longTaskMs: longTasks.reduce((a, b) => a + b, 0),
  };
}

/** Streams `tokens` think tokens at `rate`/s through the real bus, as one `reasoning.event` per token. */
function streamingAsk(app: App, tokens: number, rate: number): void {
  const handlers = app.handlers as unknown as Record<string, (args: unknown) => unknown>;
  const words = 'the axial slice shows a well defined hypodense lesion in the right lobe of the liver with'.split(' ');
  handlers['reasoning.ask'] = () => {
    const runId = app.runs.start('reasoning.ask', async ({ runId, signal }) => {
      const emit = (event: ReasoningEvent): void => app.bus.emit('reasoning.event', event);
      emit({ runId, type: 'phase', phase: 'thinking', attempt: 1 });
      const started = performance.now();
      for (let i = 0; i < tokens && !signal.aborted; i++) {
        emit({ runId, type: 'token', segment: i % 97 < 90 ? 'think' : 'query', text: ` ${words[i % words.length]}`, attempt: 1 });
        const wait = started + ((i + 1) * 1000) / rate - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      emit({ runId, type: 'answer', answer: 'yes', attempt: 1, kept: true, confidence: { firstToken: 0.9, optionMass: null, sampled: 1, used: 0.9, source: 'first-token' } });
    });
    return { runId };
  };
}

function row(name: string, s: FrameStats, extra = ''): (string | number)[] {
  return [name, s.frames, s.p50, s.p95, s.p99, s.max, `${(s.dropped * 100).toFixed(1)}%`, `${s.longTasks} (${Math.round(s.longTaskMs)} ms)`, extra];
}

export const uiSuite: BenchSuite = async (context: BenchContext): Promise<BenchTable[]> => {
  const rendererDir = join(root, 'out/renderer');
  const clientScript = join(root, 'out/bridge-client/bridge-client.js');
  if (!existsSync(join(rendererDir, 'index.html')) || !existsSync(clientScript) || !existsSync(chromiumPath)) {
    return [{ title: 'UI frame times', columns: ['note'], rows: [['skipped: run "npm run build" first and install Debian chromium']] }];
  }
  const seconds = context.quick ? 3 : 10;
  const rate = 200;
  const dataDir = mkdtempSync(join(tmpdir(), 'medrwr-bench-ui-'));
  let app: App | null = null;
  let bridge: LoopbackBridge | null = null;
  let browser: Browser | null = null;
  try {
    app = await composeApp({ dataDir, resourcesDir: join(root, 'resources'), version: 'bench', dialogs: { open: async () => [] } });
    app.settings.update({ models: { reasoner: '/bench/scripted-reasoner.gguf' } });
    streamingAsk(app, seconds * rate, rate);
    bridge = await startLoopbackBridge({ handlers: app.handlers, bus: app.bus, rendererDir, clientScript });
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-dev-shm-usage'],
    });
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    // tsx keeps function names with an `__name` helper that page.evaluate'd functions would miss.
    await page.addInitScript({ content: 'globalThis.__name = (f) => f;' });
    await page.goto(bridge.pageUrl);

    // A 512² CT series to read: the shared 11-slice series when present, else the first bundled sample.
    const ct = context.sharedDir ? join(context.sharedDir, 'data/dicom/dicom_numpy_ct_series') : null;
    if (ct && existsSync(ct)) {
      const { runId } = await app.handlers['studies.import']({ paths: [ct] });
      await app.runs.waitFor(runId);
      await page.reload();
    }
    const rows = page.getByTestId('study-row');
    await rows.first().waitFor({ timeout: 60_000 });
    const target = (await rows.filter({ hasText: 'Lymphoma' }).count()) > 0 ? rows.filter({ hasText: 'Lymphoma' }) : rows.first();
    await target.first().dblclick();
    await page.locator('[data-testid=viewport]:not([data-sop=""])').waitFor({ timeout: 60_000 });
    const size = (await page.getByTestId('overlay-image').textContent())?.match(/(\d+)×(\d+)/)?.slice(1).join('×') ?? '?';
    await page.waitForTimeout(500);

    context.log(`idle baseline ${seconds} s`);
    const idle = await record(page, () => page.waitForTimeout(seconds * 1000));

    context.log(`streaming ${seconds * rate} tokens at ${rate}/s`);
    await page.getByTestId('question').fill('Is there a liver lesion?');
    const streaming = await record(page, async () => {
      await page.getByTestId('analyze').click();
      await page.locator('[data-testid=run-details][data-status=completed]').waitFor({ timeout: (seconds + 30) * 1000 });
    });
    const chars = Number((await page.getByTestId('run-status').textContent())?.match(/([\d,]+) chars/)?.[1]?.replace(/,/g, '') ?? 0);

    context.log('right-drag window/level');
    const box = (await page.getByTestId('viewport').boundingBox())!;
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;
    const drag = await record(page, async () => {
      await page.mouse.move(cx, cy);
      await page.mouse.down({ button: 'right' });
      const steps = seconds * 60;
      for (let i = 0; i < steps; i++) {
        const t = (i / 60) * Math.PI;
        await page.mouse.move(cx + Math.sin(t) * 200, cy + Math.cos(t) * 120);
      }
      await page.mouse.up({ button: 'right' });
    });

    return [
      {
        title: `UI frame intervals in headless Chromium (ms; display ${Math.round(1000 / idle.p50)} Hz)`,
        columns: ['scenario', 'frames', 'p50', 'p95', 'p99', 'max', 'dropped', 'long tasks', 'note'],
        rows: [
          row('idle (baseline)', idle),
          row(`streaming ${rate} tok/s`, streaming, `${seconds * rate} token events, ${chars} chars rendered; p95 ${(streaming.p95 / idle.p95).toFixed(2)}× idle`),
          row(`W/L right-drag on ${size}`, drag, `p95 ${(drag.p95 / idle.p95).toFixed(2)}× idle`),
        ],
        notes: [
          'One reasoning.event per token through the real bus and loopback bridge (the service batches tokens into deltas, so real runs send fewer events).',
          'Chromium runs with --disable-gpu (software compositing); dropped = intervals > 1.5× the median frame.',
          `Machine load average during the run: ${loadavg()
            .map((l) => l.toFixed(2))
            .join(' / ')} (1/5/15 min) on ${availableParallelism()} cores: compare rows with the idle baseline of the same run.`,
        ],
      },
    ];
  } finally {
    await browser?.close();
    await bridge?.close();
    await app?.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  }
};
