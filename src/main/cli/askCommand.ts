import { writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type {
  AskRequest,
  ConfidenceReport,
  ReasoningEvent,
  ReasoningMode,
  SegmentKind,
  Settings,
  SettingsPatch,
} from '../../shared/contract';
import { describeAnswer } from '../audit/exportHtml';
import type { App } from '../compose';
import type { ReplayOutcome } from '../reasoning/ReasoningService';
import { toErrorPayload } from '../errors/AppError';
import { applySettingsPatch } from '../settings/validateSettings';
import type { CliCommand, CliContext } from './CliContext';

export const askUsage = `usage:
  npm run ask -- --image <png|jpg|dcm> --question "…" [--choices a,b,…] [--mode direct|rwr|rwr+cdir] [--json]
                 [--model <reasoner.gguf> --mmproj <mmproj.gguf>]
                 [--grammar] [--think-chars N] [--query-chars N] [--max-tokens N] [--temperature T] [--threshold P]
  npm run ask -- --question "…"                      (a question without an image)
  npm run ask -- --replay <runId> [--json]           (re-run a recorded question; says whether it reproduced)
  npm run ask -- --list [--limit N]                  (recorded runs, newest first)
  npm run ask -- --export <runId> [--out <file.html>]  (self-contained HTML report)

  Streams the reasoning (think / query / retrieved passages / answer / CDIR) and writes the audit record to the
  app's store (MEDRWR_DATA_DIR or ~/.medrwr-reading-station). --json prints the events as JSON lines.
  Exit status: 0 answered, 4 finished without an answer, 130 cancelled, 1 failed, 2 bad usage, 3 replay differs.
  --model/--mmproj set the reasoner in the settings (as the app would) and load it. Ctrl-C cancels the run.
  For this run only (validated, recorded with it, never saved): --grammar (protocol-constrained decoding),
  --think-chars / --query-chars (the grammar's bounds per reasoning step and per query; defaults 2000 and 300),
  --max-tokens N (per attempt), --temperature T (0 = greedy), --threshold P (CDIR).`;

class UsageError extends Error {}

const modes: ReasoningMode[] = ['direct', 'rwr', 'rwr+cdir'];

/** `npm run ask -- …`: one Med-RwR run from the command line, over the same services as the app. */
export const askCommand: CliCommand = async (argv, context) => {
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        image: { type: 'string' },
        question: { type: 'string', short: 'q' },
        choices: { type: 'string' },
        mode: { type: 'string' },
        json: { type: 'boolean', default: false },
        model: { type: 'string' },
        mmproj: { type: 'string' },
        replay: { type: 'string' },
        list: { type: 'boolean', default: false },
        limit: { type: 'string' },
        export: { type: 'string' },
        out: { type: 'string' },
        grammar: { type: 'boolean', default: false },
        'think-chars': { type: 'string' },
        'query-chars': { type: 'string' },
        'max-tokens': { type: 'string' },
        temperature: { type: 'string' },
        threshold: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      context.out(askUsage);
      return 0;
    }
    const app = await context.app();
    if (values.list) return list(app, context, values.limit);
    if (values.export) return await exportReport(app, context, values.export, values.out);
    if (values.model || values.mmproj) await loadModels(app, context, values.model, values.mmproj);
    else await loadConfiguredModels(app, context);
    if (values.replay) return await replay(app, context, values.replay, values.json);
    if (!values.question) throw new UsageError('--question is required');
    if (values.mode !== undefined && !modes.includes(values.mode as ReasoningMode)) {
      throw new UsageError(`--mode: expected ${modes.join(' | ')}, found ${JSON.stringify(values.mode)}`);
    }
    const request = app.reasoning.validate({
      question: values.question,
      image: values.image ? { kind: 'file', path: resolve(values.image) } : null,
      ...(values.choices ? { choices: values.choices.split(',').map((c) => c.trim()) } : {}),
      ...(values.mode ? { mode: values.mode } : {}),
    });
    const reasoning: NonNullable<SettingsPatch['reasoning']> = {};
    if (values.grammar) reasoning.grammarConstrained = true;
    if (values['think-chars'] !== undefined) reasoning.grammarThinkChars = numberOption('--think-chars', values['think-chars']);
    if (values['query-chars'] !== undefined) reasoning.grammarQueryChars = numberOption('--query-chars', values['query-chars']);
    if (values['max-tokens'] !== undefined) reasoning.maxTokens = numberOption('--max-tokens', values['max-tokens']);
    if (values.temperature !== undefined) reasoning.temperature = numberOption('--temperature', values.temperature);
    if (values.threshold !== undefined) reasoning.cdirThreshold = numberOption('--threshold', values.threshold);
    // Checked like a settings change (INVALID_INPUT names the key and the range), applied to this run only.
    const settings = Object.keys(reasoning).length > 0 ? applySettingsPatch(app.settings.get(), { reasoning }) : undefined;
    return await ask(app, context, request, values.json, values.image ? basename(values.image) : null, settings);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      context.err(`ask: ${(error as Error).message}\n\n${askUsage}`);
      return 2;
    }
    const { code, message } = toErrorPayload(error);
    context.err(`ask: ${code}: ${message}`);
    return 1;
  }
};

async function loadModels(app: App, context: CliContext, model?: string, mmproj?: string): Promise<void> {
  await app.handlers['settings.update']({
    models: { ...(model ? { reasoner: resolve(model) } : {}), ...(mmproj ? { mmproj: resolve(mmproj) } : {}) },
  });
  const status = await app.handlers['engine.load']({ roles: ['reasoner', 'mmproj'] });
  if (status.reasoner.state !== 'ready') {
    throw new Error(`the reasoner did not load: ${status.reasoner.error?.message ?? status.reasoner.state}`);
  }
  context.err(`loaded ${basename(status.reasoner.path ?? '')}${status.visionReady ? ' with its vision projector' : ''}`);
}

/** Loads the models the settings name (as the app does at start) when no reasoner is loaded yet. */
async function loadConfiguredModels(app: App, context: CliContext): Promise<void> {
  const { models } = app.settings.get();
  if (!models.reasoner || typeof app.handlers['engine.load'] !== 'function') return;
  if (app.engine && app.engine.reasoner()) return;
  const status = await app.handlers['engine.load']({});
  if (status.reasoner.state === 'ready') {
    context.err(`loaded ${basename(status.reasoner.path ?? '')}${status.visionReady ? ' with its vision projector' : ''}`);
  }
}

/** Runs one request as the app does (RunRegistry, events, audit) and prints it as it streams. */
function numberOption(name: string, text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${name}: expected a number, found "${text}"`);
  return n;
}

async function ask(
  app: App,
  context: CliContext,
  request: AskRequest,
  json: boolean,
  imageName: string | null,
  settings?: Settings,
): Promise<number> {
  app.reasoning.ready(request);
  const printer = json ? new JsonPrinter(context) : new StreamPrinter(context, request.choices ?? null);
  let runId = '';
  let answered = false;
  const pending: ReasoningEvent[] = [];
  const unsubscribe = app.bus.subscribe((channel, payload) => {
    if (channel !== 'reasoning.event') return;
    const event = payload as ReasoningEvent;
    if (event.type === 'done' && event.result.answer !== null) answered = true;
    if (!runId) pending.push(event);
    else if (event.runId === runId) printer.print(event);
  });
  const onSigint = (): void => {
    context.err('\ncancelling…');
    app.runs.cancel(runId);
  };
  process.once('SIGINT', onSigint);
  try {
    runId = app.runs.start('reasoning', async (run) => {
      await app.reasoning.ask(request, run, settings ? { settings } : {});
    });
    if (!json) {
      const { reasoning } = settings ?? app.settings.get();
      const grammar = reasoning.grammarConstrained
        ? ` · grammar (≤${reasoning.grammarThinkChars ?? '∞'} thought / ≤${reasoning.grammarQueryChars ?? 200} query chars)`
        : '';
      context.out(`▶ run ${runId} · mode ${request.mode ?? reasoning.mode}${imageName ? ` · image ${imageName}` : ''}${grammar}`);
    }
    for (const event of pending.splice(0)) if (event.runId === runId) printer.print(event);
    const outcome = await app.runs.waitFor(runId);
    printer.flush();
    if (!json) context.out(`  record: ${runId}  (npm run ask -- --export ${runId})`);
    if (outcome?.status === 'completed') return answered ? 0 : 4;
    return outcome?.status === 'cancelled' ? 130 : 1;
  } finally {
    process.off('SIGINT', onSigint);
    unsubscribe();
  }
}

async function replay(app: App, context: CliContext, originalId: string, json: boolean): Promise<number> {
  const printer = json ? new JsonPrinter(context) : new StreamPrinter(context);
  let runId = '';
  const unsubscribe = app.bus.subscribe((channel, payload) => {
    if (channel === 'reasoning.event' && (payload as ReasoningEvent).runId === runId) printer.print(payload as ReasoningEvent);
  });
  try {
    const replayed: { outcome?: ReplayOutcome } = {};
    runId = app.runs.start('reasoning', async (run) => {
      replayed.outcome = await app.reasoning.replay(originalId, run);
    });
    const outcome = await app.runs.waitFor(runId);
    printer.flush();
    const m = replayed.outcome?.match;
    if (outcome?.status === 'failed' || !m) {
      if (outcome?.status === 'failed') context.err(`ask: ${outcome.error.code}: ${outcome.error.message}`);
      return 1;
    }
    const lines = m.attempts.map(
      (a) => `  attempt ${a.attempt}: ${a.identical ? 'identical' : `differs from character ${a.firstDifference}`}`,
    );
    context.out(`${m.identical ? '✔ replay reproduced' : '✘ replay differs from'} run ${originalId} (replay ${runId})\n${lines.join('\n')}`);
    return m.identical ? 0 : 3;
  } finally {
    unsubscribe();
  }
}

function list(app: App, context: CliContext, limit: string | undefined): number {
  const runs = app.audit.list(limit ? { limit: Number(limit) } : {});
  for (const r of runs) {
    const conf = r.confidence === null ? '—' : r.confidence.toFixed(3);
    context.out(`${r.startedAt}  ${r.runId}  ${r.status.padEnd(9)} ${r.mode.padEnd(8)} ${conf.padStart(5)}  ${r.cdirTriggered ? 'CDIR ' : ''}${r.question.slice(0, 60)} → ${r.answer ?? '—'}`);
  }
  if (runs.length === 0) context.out('no recorded runs');
  return 0;
}

async function exportReport(app: App, context: CliContext, runId: string, out: string | undefined): Promise<number> {
  const report = await app.handlers['history.exportHtml']({ runId });
  const file = resolve(out ?? report.fileName);
  writeFileSync(file, report.html);
  context.out(file);
  return 0;
}

function describeConfidence(c: ConfidenceReport): string {
  const f = (p: number | null): string => (p === null ? '—' : p.toFixed(3));
  return `confidence ${f(c.used)} (${c.source}; first token ${f(c.firstToken)}, option mass ${f(c.optionMass)}, sampled ${f(c.sampled)})`;
}

interface Printer {
  print(event: ReasoningEvent): void;
  flush(): void;
}

class JsonPrinter implements Printer {
  constructor(private readonly context: CliContext) {}
  print(event: ReasoningEvent): void {
    this.context.out(JSON.stringify(event));
  }
  flush(): void {}
}

/** Human-readable stream: one line per segment (wrapped), queries with their passages, CDIR and answers. */
class StreamPrinter implements Printer {
  #segment: SegmentKind | null = null;
  #line = '';
  constructor(
    private readonly context: CliContext,
    private readonly choices: readonly string[] | null = null,
  ) {}

  print(event: ReasoningEvent): void {
    switch (event.type) {
      case 'token':
        if (event.segment === 'query') return; // printed whole with its round
        if (event.segment !== this.#segment) {
          this.flush();
          this.#segment = event.segment;
          this.#line = `[${event.segment}${event.attempt > 1 ? ` ${event.attempt}` : ''}] `;
        }
        this.#line += event.text.replace(/\s+/g, ' ');
        while (this.#line.length > 110) {
          const cut = this.#line.lastIndexOf(' ', 110);
          const at = cut > 20 ? cut : 110;
          this.context.out(this.#line.slice(0, at));
          this.#line = `  ${this.#line.slice(at).trimStart()}`;
        }
        return;
      case 'query':
        this.flush();
        this.context.out(`[query ${event.round}] ${event.query}`);
        return;
      case 'hits':
        this.flush();
        if (event.hits.length === 0) this.context.out(`  <retrieve> None </retrieve>  (${event.reason ?? 'no passage matched'})`);
        event.hits.forEach((h, i) => {
          const where = [h.provenance.sourceTitle, ...h.provenance.section].filter(Boolean).join(' › ');
          this.context.out(`  (${i + 1}) ${h.title} — ${where}  score ${h.score.toFixed(4)}  #${h.passageId}`);
        });
        if (event.lexicalOnly) this.context.out('  (lexical retrieval only)');
        return;
      case 'cdir':
        this.flush();
        this.context.out(
          `[cdir${event.triggered ? ` → attempt ${event.attempt + 1}` : ''}] ${event.reason}${event.similarCase ? ` (case #${event.similarCase.caseId}, similarity ${event.similarCase.score.toFixed(3)})` : ''}`,
        );
        return;
      case 'answer':
        this.flush();
        this.context.out(
          `[answer${event.attempt > 1 ? ` ${event.attempt}` : ''}] ${describeAnswer(event.answer, this.choices)} — ${describeConfidence(event.confidence)}`,
        );
        return;
      case 'done': {
        this.flush();
        const r = event.result;
        const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
        this.context.out(
          r.answer === null
            ? `✘ no answer (${r.endReason}) · ${s(r.timings.totalMs)}`
            : `✔ ${describeAnswer(r.answer, this.choices)} · ${describeConfidence(r.confidence)} · attempt ${r.keptAttempt ?? 1} of ${r.attempts ?? 1} · ` +
                `${r.rounds} retrieval round${r.rounds === 1 ? '' : 's'} · ${s(r.timings.totalMs)} (model ${s(r.timings.modelMs)}, retrieval ${s(r.timings.retrievalMs)})`,
        );
        return;
      }
      case 'cancelled':
        this.flush();
        this.context.out('✘ cancelled');
        return;
      case 'failed':
        this.flush();
        this.context.err(`✘ failed: ${event.error.code}: ${event.error.message}`);
        return;
      case 'phase':
        if (event.phase === 'retrieving' || event.phase === 'cdir') this.flush();
        if (event.phase === 'waiting-for-knowledge') this.context.err('building the bundled knowledge base first (first start)…');
        return;
    }
  }

  flush(): void {
    if (this.#line.trim()) this.context.out(this.#line.trimEnd());
    this.#line = '';
    this.#segment = null;
  }
}
