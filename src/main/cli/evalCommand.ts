import { mkdirSync, writeFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type {
  EvalDatasetFormat,
  EvalDetail,
  EvalProgressEvent,
  EvalRequest,
  ReasoningMode,
} from '../../shared/contract';
import { toErrorPayload } from '../errors/AppError';
import type { App } from '../compose';
import type { CliCommand, CliContext } from './CliContext';

export const evalUsage = `usage:
  npm run eval -- run --dataset <file> [--format vqa-rad|slake|jsonl] [--images <dir>] [--modes direct,rwr,rwr+cdir]
                      [--limit N] [--sample N[:seed]] [--seed N] [--label text] [--dry-run] [--out <dir>]
                      [--threshold P] [--confidence first-token|option-mass] [--max-tokens N] [--temperature T]
                      [--grammar [--think-chars N] [--query-chars N]] [--k N] [--rounds N]
                      [--retrieval lexical|vector|hybrid]
                      [--reasoner <gguf> --mmproj <gguf>]
  npm run eval -- resume <evalId> [--out <dir>]
  npm run eval -- list
  npm run eval -- report <evalId> [--out <dir>]
  npm run eval -- retrieval (--liveqa <dir> | --beir <dir>) [--k 10] [--mode lexical|vector|hybrid]
                            [--queries summary|paraphrase|original] [--split test] [--out <file.json>]

  run      freezes the selected items, runs every item in every mode, writes report.html, results.csv and
           results.jsonl to --out (default: <data dir>/eval-reports/<evalId>); Ctrl-C cancels, resume continues.
  --dry-run  scripted answers instead of the model: checks the dataset, the images and the report pipeline.
  --dry-run-delay <ms>  simulated time per item in a dry run (to rehearse cancel and resume).
  --format   defaults to jsonl for *.jsonl, else vqa-rad.
  --reasoner, --mmproj  set the models in this data directory's settings (as Settings → Models) before loading them;
           without them a model evaluation loads the models already configured.
  Settings for this evaluation only (validated, frozen with it, never saved): --threshold <0..1> (CDIR),
  --confidence first-token|option-mass, --max-tokens N, --temperature T, --grammar (protocol-constrained decoding),
  --think-chars N / --query-chars N (the grammar's bounds per reasoning step and per query; defaults 2000 and 300),
  --k N (passages per query), --rounds N (retrieval rounds), --retrieval lexical|vector|hybrid.`;

const modeNames: ReasoningMode[] = ['direct', 'rwr', 'rwr+cdir'];

/** A bad command line: printed with the usage, exit code 2. */
class UsageError extends Error {
  readonly code = 'USAGE';
}

/** `npm run eval -- <run|resume|list|report|retrieval> …` over the same services as the app. */
export const evalCommand: CliCommand = async (argv, context) => {
  const [sub, ...rest] = argv;
  try {
    switch (sub) {
      case 'run':
        return await runCommand(rest, context);
      case 'resume':
        return await resumeCommand(rest, context);
      case 'list':
        return await listCommand(context);
      case 'report':
        return await reportCommand(rest, context);
      case 'retrieval':
        return await (await import('./evalRetrievalCommand')).evalRetrievalCommand(rest, context);
      default:
        context.err(evalUsage);
        return 2;
    }
  } catch (error) {
    if (error instanceof UsageError) {
      context.err(`eval ${sub ?? ''}: ${error.message}\n\n${evalUsage}`);
      return 2;
    }
    const { code, message } = toErrorPayload(error);
    context.err(`eval ${sub ?? ''}: ${code}: ${message}`);
    return 1;
  }
};

interface RunArgs {
  request: EvalRequest;
  out: string | undefined;
  delayMs: number;
  models: { reasoner?: string; mmproj?: string };
}

function parseRequest(argv: string[]): RunArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      dataset: { type: 'string' },
      format: { type: 'string' },
      images: { type: 'string' },
      modes: { type: 'string' },
      limit: { type: 'string' },
      sample: { type: 'string' },
      seed: { type: 'string' },
      label: { type: 'string' },
      'dry-run': { type: 'boolean' },
      'dry-run-delay': { type: 'string' },
      out: { type: 'string' },
      threshold: { type: 'string' },
      confidence: { type: 'string' },
      'max-tokens': { type: 'string' },
      temperature: { type: 'string' },
      grammar: { type: 'boolean' },
      'think-chars': { type: 'string' },
      'query-chars': { type: 'string' },
      k: { type: 'string' },
      rounds: { type: 'string' },
      retrieval: { type: 'string' },
      reasoner: { type: 'string' },
      mmproj: { type: 'string' },
    },
    strict: true,
  });
  if (!values.dataset) throw new UsageError('--dataset <file> is required');
  const format = (values.format ??
    (extname(values.dataset).toLowerCase() === '.jsonl' ? 'jsonl' : 'vqa-rad')) as EvalDatasetFormat;
  if (!['vqa-rad', 'slake', 'jsonl'].includes(format))
    throw new UsageError(`--format: expected vqa-rad, slake or jsonl, found ${format}`);
  const modes = (values.modes ?? modeNames.join(',')).split(',').map((m) => m.trim()) as ReasoningMode[];
  const bad = modes.filter((m) => !modeNames.includes(m));
  if (bad.length > 0)
    throw new UsageError(`--modes: expected a list of ${modeNames.join(', ')}, found ${bad.join(', ')}`);
  const request: EvalRequest = {
    dataset: { format, path: resolve(values.dataset), ...(values.images ? { imagesDir: resolve(values.images) } : {}) },
    modes,
    dryRun: values['dry-run'] ?? false,
  };
  if (values.limit !== undefined) request.limit = integer('--limit', values.limit);
  if (values.seed !== undefined) request.seed = integer('--seed', values.seed);
  if (values.label !== undefined) request.label = values.label;
  if (values.sample !== undefined) {
    const [size, seed] = values.sample.split(':');
    request.sample = {
      size: integer('--sample', size ?? ''),
      seed: seed === undefined ? 1 : integer('--sample seed', seed),
    };
  }
  const reasoning: NonNullable<EvalRequest['settings']>['reasoning'] = {};
  const retrieval: NonNullable<EvalRequest['settings']>['retrieval'] = {};
  if (values.threshold !== undefined) reasoning.cdirThreshold = decimal('--threshold', values.threshold);
  if (values.confidence !== undefined) reasoning.confidenceSource = values.confidence as 'first-token' | 'option-mass';
  if (values['max-tokens'] !== undefined) reasoning.maxTokens = integer('--max-tokens', values['max-tokens']);
  if (values.temperature !== undefined) reasoning.temperature = decimal('--temperature', values.temperature);
  if (values.grammar) reasoning.grammarConstrained = true;
  if (values['think-chars'] !== undefined) reasoning.grammarThinkChars = integer('--think-chars', values['think-chars']);
  if (values['query-chars'] !== undefined) reasoning.grammarQueryChars = integer('--query-chars', values['query-chars']);
  if (values.k !== undefined) retrieval.k = integer('--k', values.k);
  if (values.rounds !== undefined) retrieval.maxRounds = integer('--rounds', values.rounds);
  if (values.retrieval !== undefined) retrieval.mode = values.retrieval as 'lexical' | 'vector' | 'hybrid';
  if (Object.keys(reasoning).length > 0 || Object.keys(retrieval).length > 0)
    request.settings = { reasoning, retrieval };
  const delayMs = values['dry-run-delay'] === undefined ? 0 : integer('--dry-run-delay', values['dry-run-delay']);
  const models = {
    ...(values.reasoner ? { reasoner: resolve(values.reasoner) } : {}),
    ...(values.mmproj ? { mmproj: resolve(values.mmproj) } : {}),
  };
  return { request, out: values.out, delayMs, models };
}

function decimal(name: string, text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${name}: expected a number, found "${text}"`);
  return n;
}

function integer(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n)) throw new UsageError(`${name}: expected an integer, found "${text}"`);
  return n;
}

async function runCommand(argv: string[], context: CliContext): Promise<number> {
  const { request, out, delayMs, models } = parseRequest(argv);
  const app = await context.app();
  if (delayMs > 0) app.evals.configureDryRun({ delayMs });
  if (models.reasoner || models.mmproj) app.settings.update({ models });
  if (!request.dryRun) await settleKnowledge(app, context);
  const evaluation = await app.evals.create(request);
  const detail = app.evals.get(evaluation.id);
  context.out(`evalId=${evaluation.id}`);
  context.out(
    `${detail.summary.dataset}: ${evaluation.itemCount} items × ${evaluation.modes.length} modes (${evaluation.modes.join(', ')})` +
      `${detail.problems.length > 0 ? `; ${detail.problems.length} rows not usable (listed in the report)` : ''}` +
      `${evaluation.dryRun ? ' — DRY RUN (scripted answers)' : ''}`,
  );
  for (const problem of detail.problems.slice(0, 5))
    context.err(`  row ${problem.row}: ${problem.code}: ${problem.message}`);
  return follow(app, evaluation.id, () => app.evals.resume(evaluation.id), out, context);
}

async function resumeCommand(argv: string[], context: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { out: { type: 'string' }, 'dry-run-delay': { type: 'string' } },
    allowPositionals: true,
  });
  const evalId = positionals[0];
  if (!evalId) throw new UsageError('resume <evalId>: the evaluation id is required (see "eval list")');
  const app = await context.app();
  if (values['dry-run-delay'] !== undefined)
    app.evals.configureDryRun({ delayMs: integer('--dry-run-delay', values['dry-run-delay']) });
  const before = app.evals.get(evalId).summary;
  if (!before.dryRun) await settleKnowledge(app, context);
  context.out(`evalId=${evalId}`);
  context.out(
    `resuming ${before.dataset}: ${before.resultsDone}/${before.resultsTotal} results recorded, ${before.failed} failed (retried)`,
  );
  return follow(app, evalId, () => app.evals.resume(evalId), values.out, context);
}

/**
 * A fresh data directory builds the bundled knowledge base in the background; a model evaluation waits for it (the
 * service does), so that every item (and a later resume) sees the same knowledge base. Says so while it waits.
 */
async function settleKnowledge(app: App, { err }: CliContext): Promise<void> {
  if (!app.knowledgeGate.building) return;
  err('building the bundled knowledge base first (first start)…');
  await app.knowledgeGate.wait();
  const { filesDone, error } = app.knowledgeGate.snapshot();
  err(error ? `the bundled knowledge base did not finish: ${error.code}: ${error.message}` : `built the bundled knowledge base (${filesDone} file(s))`);
}

/** Starts the run, prints progress, cancels on Ctrl-C, and writes the report files when it ends. */
async function follow(
  app: App,
  evalId: string,
  start: () => Promise<{ runId: string }>,
  out: string | undefined,
  context: CliContext,
): Promise<number> {
  const unsubscribe = app.bus.subscribe((event, payload) => {
    if (event !== 'eval.progress') return;
    const p = payload as EvalProgressEvent;
    if (p.evalId !== evalId) return;
    const mark = p.correct === null ? 'failed' : p.correct ? 'right' : 'wrong';
    context.out(
      `[${p.itemsDone}/${p.itemsTotal}] ${p.itemId} ${p.mode} ${mark}${p.etaMs === null ? '' : ` · eta ${duration(p.etaMs)}`}`,
    );
  });
  const { runId } = await start();
  const onSignal = (): void => {
    context.err('cancelling… (resume later with: npm run eval -- resume ' + evalId + ')');
    app.runs.cancel(runId);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const outcome = await app.runs.waitFor(runId);
    const detail = app.evals.get(evalId);
    printSummary(detail, context);
    const dir = writeReportFiles(app, evalId, out);
    context.out(`report: ${join(dir, 'report.html')}`);
    if (outcome?.status === 'completed') return 0;
    if (outcome?.status === 'cancelled') {
      context.err(`cancelled; resume with: npm run eval -- resume ${evalId}`);
      return 130;
    }
    context.err(
      `failed: ${outcome?.status === 'failed' ? `${outcome.error.code}: ${outcome.error.message}` : 'unknown'}`,
    );
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    unsubscribe();
  }
}

function writeReportFiles(app: App, evalId: string, out: string | undefined): string {
  const dir = resolve(out ?? join(app.config.dataDir, 'eval-reports', evalId));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'report.html'), app.evals.report(evalId).html);
  writeFileSync(join(dir, 'results.csv'), app.evals.export(evalId, 'csv').text);
  writeFileSync(join(dir, 'results.jsonl'), app.evals.export(evalId, 'jsonl').text);
  return dir;
}

function printSummary(detail: EvalDetail, { out }: CliContext): void {
  const s = detail.summary;
  out(
    `${s.dataset} · ${s.status} · ${s.resultsDone}/${s.resultsTotal} results, ${s.failed} failed${s.dryRun ? ' · DRY RUN' : ''}`,
  );
  for (const m of detail.metrics.modes) {
    const rate = (count: number, total: number): string =>
      total === 0 ? '—' : `${((100 * count) / total).toFixed(1)}% (${count}/${total})`;
    out(
      `  ${m.mode.padEnd(9)} overall ${rate(m.overall.count, m.overall.total)} · closed ${rate(m.closed.count, m.closed.total)} · open exact ${rate(
        m.openExact.count,
        m.openExact.total,
      )} · ECE ${m.calibration.ece === null ? '—' : m.calibration.ece.toFixed(3)} · CDIR ${m.cdir.triggered.count} (+${m.cdir.wrongToRight}/−${m.cdir.rightToWrong})`,
    );
  }
  for (const c of detail.metrics.paired) {
    out(
      `  ${c.modeA} vs ${c.modeB}: b=${c.onlyA} c=${c.onlyB} · McNemar ${c.method} p=${c.pValue === null ? '—' : c.pValue.toFixed(4)}`,
    );
  }
}

async function listCommand(context: CliContext): Promise<number> {
  const app = await context.app();
  const list = app.evals.list();
  if (list.length === 0) context.out('no evaluations yet');
  for (const s of list) {
    const accuracy = s.modes
      .map((m) => (s.correct[m] ? `${m} ${s.correct[m].correct}/${s.correct[m].total}` : `${m} —`))
      .join(', ');
    context.out(
      `${s.evalId}  ${s.createdAt}  ${s.status.padEnd(11)} ${s.dataset}  ${s.resultsDone}/${s.resultsTotal}  ${accuracy}${s.dryRun ? '  DRY RUN' : ''}${s.label ? `  "${s.label}"` : ''}`,
    );
  }
  return 0;
}

async function reportCommand(argv: string[], context: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { out: { type: 'string' } },
    allowPositionals: true,
  });
  const evalId = positionals[0];
  if (!evalId) throw new UsageError('report <evalId>: the evaluation id is required (see "eval list")');
  const app = await context.app();
  printSummary(app.evals.get(evalId), context);
  const dir = writeReportFiles(app, evalId, values.out);
  context.out(`report: ${join(dir, 'report.html')}`);
  return 0;
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60
    ? `${s}s`
    : s < 3600
      ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
      : `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
