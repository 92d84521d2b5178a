import { useState } from 'react';
import type {
  EvalDatasetFormat,
  EvalDetail,
  EvalProgressEvent,
  EvalRequest,
  EvalSummary,
  ExportedReport,
  Proportion,
  ReasoningMode,
} from '../../../shared/contract';
import { EmptyState } from '../components/EmptyState';
import { ErrorNotice } from '../components/ErrorNotice';
import { Icon } from '../components/Icon';
import { KnowledgeBuildingNotice } from '../components/KnowledgeBuildingNotice';
import { Modal } from '../components/Modal';
import { PathField } from '../components/PathField';
import { ProgressBar } from '../components/ProgressBar';
import { formatDuration, formatPercent, formatProbability, formatTimestamp } from '../lib/format';
import { saveTextFile, useApiEvent, useAsync } from '../lib/hooks';
import { runTracker } from '../lib/runTracker';
import { useKnowledgeReadiness } from '../lib/useKnowledgeReadiness';

const allModes: ReasoningMode[] = ['direct', 'rwr', 'rwr+cdir'];

interface Running {
  runId: string;
  evalId: string;
  progress: EvalProgressEvent | null;
}

/** Pilot-study evaluation: run a dataset in several modes, follow progress, compare modes, open and export reports. */
export function EvalScreen({ active }: { active: boolean }) {
  const [format, setFormat] = useState<EvalDatasetFormat>('vqa-rad');
  const [path, setPath] = useState('');
  const [imagesDir, setImagesDir] = useState('');
  const [modes, setModes] = useState<ReasoningMode[]>(allModes);
  const [limit, setLimit] = useState('20');
  const [sampleSeed, setSampleSeed] = useState('');
  const [label, setLabel] = useState('');
  const [dryRun, setDryRun] = useState(false);
  const [running, setRunning] = useState<Running | null>(null);
  const [startError, setStartError] = useState<unknown>(null);
  const [lastOutcome, setLastOutcome] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [detailTick, setDetailTick] = useState(0);
  const list = useAsync(() => window.api.eval.list(), [active]);
  const readiness = useKnowledgeReadiness();
  const [starting, setStarting] = useState(false);

  useApiEvent(window.api.eval.onProgress, (event) => {
    setRunning((r) => (r && (r.runId === event.runId || r.evalId === event.evalId) ? { ...r, progress: event } : r));
  });

  const follow = async (started: { runId: string; evalId: string }): Promise<void> => {
    setRunning({ ...started, progress: null });
    setSelected(started.evalId);
    list.reload();
    const outcome = await runTracker().wait(started.runId);
    setRunning(null);
    if (outcome.status === 'failed') setStartError(outcome.error);
    else setLastOutcome(outcome.status === 'cancelled' ? 'Stopped. Resume it from the list: recorded results are kept.' : 'Evaluation complete.');
    list.reload();
    setDetailTick((t) => t + 1);
  };

  const launch = async (start: () => Promise<{ runId: string; evalId: string }>): Promise<void> => {
    setStartError(null);
    setLastOutcome(null);
    let started: { runId: string; evalId: string };
    setStarting(true);
    try {
      started = await start();
    } catch (e) {
      setStartError(e);
      return;
    } finally {
      setStarting(false);
    }
    await follow(started);
  };

  const startNew = (): void => {
    const n = Number(limit);
    const request: EvalRequest = {
      dataset: { format, path: path.trim(), ...(imagesDir.trim() ? { imagesDir: imagesDir.trim() } : {}) },
      modes,
      ...(label.trim() ? { label: label.trim() } : {}),
      ...(dryRun ? { dryRun: true } : {}),
    };
    if (sampleSeed.trim() && Number.isInteger(n) && n > 0) request.sample = { size: n, seed: Number(sampleSeed) };
    else if (limit.trim() && Number.isInteger(n) && n > 0) request.limit = n;
    void launch(() => window.api.eval.start(request));
  };

  const p = running?.progress;
  const evals = list.data ?? [];
  return (
    <div className="eval-screen" data-testid="eval-screen">
      <section className="eval-form card">
        <h2>New evaluation</h2>
        <div className="form-grid">
          <label>
            Dataset format
            <select value={format} onChange={(e) => setFormat(e.target.value as EvalDatasetFormat)} data-testid="eval-format">
              <option value="vqa-rad">VQA-RAD (MEVF json)</option>
              <option value="slake">SLAKE-style json</option>
              <option value="jsonl">Generic JSONL</option>
            </select>
          </label>
          <label>
            Label (optional)
            <input type="text" value={label} onChange={(e) => setLabel(e.target.value)} placeholder="pilot site A, week 3" />
          </label>
          <div className="span-2">
            <PathField
              label="Dataset file"
              value={path}
              onChange={setPath}
              dialog={{ title: 'Evaluation dataset', kind: 'files', filters: [{ name: 'Datasets', extensions: ['json', 'jsonl'] }] }}
              placeholder="/data/vqa-rad/testset.json"
              testId="eval-path"
            />
          </div>
          <div className="span-2">
            <PathField
              label="Images folder (defaults to images/ beside a VQA-RAD file, imgs/ for SLAKE)"
              value={imagesDir}
              onChange={setImagesDir}
              dialog={{ title: 'Images folder', kind: 'folder' }}
              placeholder="/data/vqa-rad/images"
              testId="eval-images"
            />
          </div>
          <fieldset className="span-2 modes-fieldset">
            <legend>Modes (the same items, model and seed)</legend>
            {allModes.map((m) => (
              <label key={m} className="check-row">
                <input
                  type="checkbox"
                  checked={modes.includes(m)}
                  onChange={(e) => setModes((ms) => (e.target.checked ? allModes.filter((x) => x === m || ms.includes(x)) : ms.filter((x) => x !== m)))}
                />
                <span>{m}</span>
              </label>
            ))}
          </fieldset>
          <label>
            Items
            <input type="number" min={1} value={limit} onChange={(e) => setLimit(e.target.value)} data-testid="eval-limit" />
            <span className="field-note">Empty = the whole dataset.</span>
          </label>
          <label>
            Random sample seed (optional)
            <input type="number" min={0} value={sampleSeed} onChange={(e) => setSampleSeed(e.target.value)} />
            <span className="field-note">Samples the items at random instead of taking the first ones.</span>
          </label>
          <label className="check-row span-2">
            <input type="checkbox" checked={dryRun} onChange={(e) => setDryRun(e.target.checked)} data-testid="eval-dry-run" />
            <span>Dry run: scripted answers, no model — checks the dataset, images and report first</span>
          </label>
        </div>
        <div className="form-actions">
          {running ? (
            <button type="button" className="btn btn-danger" onClick={() => void window.api.runs.cancel({ runId: running.runId })} data-testid="eval-cancel">
              <Icon name="stop" /> Stop
            </button>
          ) : (
            <button
              type="button"
              className="btn btn-primary"
              onClick={startNew}
              disabled={!path.trim() || modes.length === 0 || starting}
              data-testid="eval-start"
            >
              <Icon name="play" /> {starting ? 'Starting…' : 'Start evaluation'}
            </button>
          )}
          {lastOutcome ? <span className="text-ok">{lastOutcome}</span> : null}
        </div>
        {!dryRun ? <KnowledgeBuildingNotice readiness={readiness} what="Model evaluations started now" /> : null}
        {running ? (
          <div data-testid="eval-progress">
            <ProgressBar
              done={p?.itemsDone ?? 0}
              total={p?.itemsTotal ?? null}
              label={
                p
                  ? `${p.itemsDone} / ${p.itemsTotal} results · last: ${p.mode} ${p.itemId} ${p.correct === null ? '(failed)' : p.correct ? '✓' : '✗'}${p.failed ? ` · ${p.failed} failed` : ''}${p.etaMs !== null ? ` · about ${formatDuration(p.etaMs)} left` : ''}`
                  : 'Selecting the items…'
              }
            />
          </div>
        ) : null}
        {startError ? <ErrorNotice error={startError} title="The evaluation did not run" /> : null}
      </section>

      <section className="eval-list card">
        <div className="toolbar">
          <h2>Evaluations</h2>
          <span className="toolbar-spacer" />
          <button type="button" className="btn" onClick={list.reload} title="Refresh">
            <Icon name="refresh" />
          </button>
        </div>
        {list.error && !list.data ? (
          <ErrorNotice error={list.error} title="The evaluation harness is not available" />
        ) : list.data && evals.length === 0 ? (
          <EmptyState icon="eval" title="No evaluations yet" testId="eval-empty">
            Point the form at a dataset (e.g. VQA-RAD's test set) and start: the same items run in each mode with the same
            model and seed, and the report compares accuracy, calibration and CDIR flips.
          </EmptyState>
        ) : (
          <table className="table" data-testid="eval-table">
            <thead>
              <tr>
                <th>Started</th>
                <th>Dataset</th>
                <th className="num">Items</th>
                <th>Status</th>
                {allModes.map((m) => (
                  <th key={m} className="num">
                    {m}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {evals.map((e) => (
                <tr
                  key={e.evalId}
                  className={e.evalId === selected ? 'selected' : undefined}
                  onClick={() => setSelected(e.evalId)}
                  data-testid="eval-row"
                >
                  <td className="mono small">{formatTimestamp(e.createdAt)}</td>
                  <td title={e.datasetPath}>
                    {e.dataset}
                    {e.label ? <div className="muted small">{e.label}</div> : null}
                    {e.dryRun ? <span className="badge badge-warn">dry run</span> : null}
                  </td>
                  <td className="num">{e.items}</td>
                  <td>
                    <span className={`state state-${e.status}`}>{e.status}</span>
                    <div className="muted small">
                      {e.resultsDone}/{e.resultsTotal}
                      {e.failed ? ` · ${e.failed} failed` : ''}
                    </div>
                  </td>
                  {allModes.map((m) => (
                    <td key={m} className="num">
                      {e.modes.includes(m) ? (
                        <>
                          {formatPercent(e.accuracy[m] ?? null)}
                          {e.correct[m] ? (
                            <div className="muted small">
                              {e.correct[m].correct}/{e.correct[m].total}
                            </div>
                          ) : null}
                        </>
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {selected ? (
        <EvalDetailView
          key={`${selected}-${detailTick}`}
          evalId={selected}
          summary={evals.find((e) => e.evalId === selected) ?? null}
          busy={running !== null}
          onResume={() => void launch(() => window.api.eval.resume({ evalId: selected }))}
          onRemoved={() => {
            setSelected(null);
            list.reload();
          }}
        />
      ) : null}
    </div>
  );
}

function proportion(p: Proportion): string {
  return p.total === 0 ? '—' : `${formatPercent(p.rate)} (${p.count}/${p.total})`;
}

function EvalDetailView({
  evalId,
  summary,
  busy,
  onResume,
  onRemoved,
}: {
  evalId: string;
  summary: EvalSummary | null;
  busy: boolean;
  onResume: () => void;
  onRemoved: () => void;
}) {
  const detail = useAsync<EvalDetail>(() => window.api.eval.get({ evalId }), [evalId]);
  const [report, setReport] = useState<ExportedReport | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);

  const act = async (action: () => Promise<void>): Promise<void> => {
    try {
      await action();
      setActionError(null);
    } catch (e) {
      setActionError(e);
    }
  };
  const status = summary?.status ?? detail.data?.summary.status;
  const d = detail.data;
  return (
    <section className="eval-detail card" data-testid="eval-detail">
      <div className="toolbar">
        <h2>{d?.summary.dataset ?? summary?.dataset ?? evalId}</h2>
        <span className="toolbar-spacer" />
        {(status === 'interrupted' || status === 'cancelled' || status === 'failed') && !busy ? (
          <button type="button" className="btn" onClick={onResume} data-testid="eval-resume">
            <Icon name="play" /> Resume
          </button>
        ) : null}
        {summary?.activeRunId ? (
          <button type="button" className="btn btn-danger" onClick={() => void window.api.runs.cancel({ runId: summary.activeRunId! })}>
            <Icon name="stop" /> Stop
          </button>
        ) : null}
        <button type="button" className="btn btn-primary" onClick={() => void act(async () => setReport(await window.api.eval.report({ evalId })))} data-testid="eval-open-report">
          <Icon name="eval" /> Report
        </button>
        {(['csv', 'jsonl'] as const).map((f) => (
          <button
            key={f}
            type="button"
            className="btn"
            onClick={() =>
              void act(async () => {
                const out = await window.api.eval.export({ evalId, format: f });
                saveTextFile(out.fileName, out.text, out.mimeType);
              })
            }
          >
            <Icon name="export" /> {f.toUpperCase()}
          </button>
        ))}
        <button
          type="button"
          className="btn"
          disabled={busy || status === 'running'}
          title="Remove this evaluation and its results"
          onClick={() =>
            void act(async () => {
              await window.api.eval.remove({ evalId });
              onRemoved();
            })
          }
        >
          <Icon name="trash" />
        </button>
      </div>
      {actionError ? <ErrorNotice error={actionError} compact /> : null}
      {detail.error ? <ErrorNotice error={detail.error} title="The evaluation's details could not be loaded" /> : null}
      {d ? (
        <>
          {d.summary.dryRun ? (
            <div className="notice notice-unavailable" role="note">
              <Icon name="warning" />
              <span className="notice-message">
                Dry run: the answers were scripted, not produced by a model. These numbers test the pipeline only.
              </span>
            </div>
          ) : null}
          {d.problems.length > 0 ? (
            <details className="problems-details">
              <summary className="text-warn">{d.problems.length} dataset rows were not used</summary>
              <table className="table table-compact">
                <tbody>
                  {d.problems.slice(0, 50).map((p) => (
                    <tr key={`${p.row}-${p.code}`}>
                      <td className="mono small">row {p.row}</td>
                      <td className="mono small">{p.itemId ?? '—'}</td>
                      <td>
                        <code>{p.code}</code>
                      </td>
                      <td className="small">{p.message}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </details>
          ) : null}
          <p className="muted small">
            {d.runner.description}
            {d.runner.knowledgeBase ? ` · KB ${d.runner.knowledgeBase}` : ''} · seed {d.request.seed ?? d.settings.reasoning.seed} · dataset sha256{' '}
            {d.datasetSha256.slice(0, 12)}
          </p>
          <table className="table table-compact metrics-table" data-testid="eval-metrics">
            <thead>
              <tr>
                <th>Mode</th>
                <th className="num">Overall</th>
                <th className="num">Closed</th>
                <th className="num">Open exact</th>
                <th className="num">Open recall</th>
                <th className="num">ECE</th>
                <th className="num">Brier</th>
                <th className="num">Queries/item</th>
                <th className="num">CDIR</th>
                <th className="num">W→R / R→W</th>
                <th className="num">Median latency</th>
              </tr>
            </thead>
            <tbody>
              {d.metrics.modes.map((m) => (
                <tr key={m.mode}>
                  <td>
                    <strong>{m.mode}</strong>
                    {m.failed ? <div className="text-warn small">{m.failed} failed</div> : null}
                  </td>
                  <td className="num">{proportion(m.overall)}</td>
                  <td className="num">{proportion(m.closed)}</td>
                  <td className="num">{proportion(m.openExact)}</td>
                  <td className="num">{m.openRecall.mean === null ? '—' : formatPercent(m.openRecall.mean)}</td>
                  <td className="num">{formatProbability(m.calibration.ece)}</td>
                  <td className="num">{formatProbability(m.calibration.brier)}</td>
                  <td className="num">{m.retrieval.queriesPerItem === null ? '—' : m.retrieval.queriesPerItem.toFixed(2)}</td>
                  <td className="num">{proportion(m.cdir.triggered)}</td>
                  <td className="num">
                    {m.cdir.wrongToRight} / {m.cdir.rightToWrong}
                  </td>
                  <td className="num">{formatDuration(m.latency.medianMs)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {d.metrics.paired.length > 0 ? (
            <table className="table table-compact" data-testid="eval-paired">
              <thead>
                <tr>
                  <th>McNemar</th>
                  <th className="num">Pairs</th>
                  <th className="num">Only A right</th>
                  <th className="num">Only B right</th>
                  <th className="num">p</th>
                  <th>Method</th>
                </tr>
              </thead>
              <tbody>
                {d.metrics.paired.map((c) => (
                  <tr key={`${c.modeA}-${c.modeB}`}>
                    <td>
                      {c.modeA} vs {c.modeB}
                    </td>
                    <td className="num">{c.pairs}</td>
                    <td className="num">{c.onlyA}</td>
                    <td className="num">{c.onlyB}</td>
                    <td className="num">{c.pValue === null ? '—' : c.pValue.toFixed(3)}</td>
                    <td className="small muted">{c.method}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
          <EvalResults evalId={evalId} modes={d.summary.modes} />
        </>
      ) : detail.loading ? (
        <p className="muted">Loading…</p>
      ) : null}
      {report ? (
        <Modal
          title={report.fileName}
          onClose={() => setReport(null)}
          wide
          testId="eval-report"
          actions={
            <button type="button" className="btn btn-primary" onClick={() => saveTextFile(report.fileName, report.html)}>
              <Icon name="export" /> Save file…
            </button>
          }
        >
          <iframe className="report-frame" title="Evaluation report" sandbox="" srcDoc={report.html} data-testid="eval-report-frame" />
        </Modal>
      ) : null}
    </section>
  );
}

function EvalResults({ evalId, modes }: { evalId: string; modes: ReasoningMode[] }) {
  const [mode, setMode] = useState<ReasoningMode | ''>('');
  const results = useAsync(() => window.api.eval.results({ evalId, ...(mode ? { mode } : {}), limit: 200 }), [evalId, mode]);
  return (
    <div className="eval-results">
      <div className="toolbar">
        <h3>Per-item results</h3>
        <select value={mode} onChange={(e) => setMode(e.target.value as ReasoningMode | '')} aria-label="Mode">
          <option value="">All modes</option>
          {modes.map((m) => (
            <option key={m} value={m}>
              {m}
            </option>
          ))}
        </select>
        <span className="muted small">first 200</span>
      </div>
      {results.error ? <ErrorNotice error={results.error} compact /> : null}
      <div className="results-scroll">
        <table className="table table-compact" data-testid="eval-results">
          <thead>
            <tr>
              <th>Item</th>
              <th>Mode</th>
              <th>Question</th>
              <th>Reference</th>
              <th>Answer</th>
              <th className="num">Conf.</th>
              <th>CDIR</th>
            </tr>
          </thead>
          <tbody>
            {(results.data ?? []).map((r) => (
              <tr key={`${r.itemId}-${r.mode}`}>
                <td className="mono small">{r.itemId}</td>
                <td className="small">{r.mode}</td>
                <td className="small">{r.question}</td>
                <td className="small">{r.reference}</td>
                <td className="small">
                  <span className={r.correct ? 'text-ok' : 'text-warn'}>{r.correct === null ? '⚠' : r.correct ? '✓' : '✗'}</span>{' '}
                  {r.status === 'failed' ? <span className="text-warn">{r.error?.message ?? 'failed'}</span> : (r.answer ?? '—')}
                </td>
                <td className="num small">{formatProbability(r.confidence?.used ?? null)}</td>
                <td className="small">{r.cdirTriggered ? `yes${r.firstAnswer !== null ? ` (first: ${r.firstAnswer})` : ''}` : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
