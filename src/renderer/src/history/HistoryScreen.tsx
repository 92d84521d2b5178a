import { useEffect, useMemo, useRef, useState } from 'react';
import type { ExportedReport, ReplayMatch, RunRecord, RunSummary } from '../../../shared/contract';
import { useApp } from '../AppContext';
import { EmptyState } from '../components/EmptyState';
import { ErrorNotice } from '../components/ErrorNotice';
import { Icon } from '../components/Icon';
import { Modal } from '../components/Modal';
import { formatDuration, formatProbability, formatTimestamp, shortHash } from '../lib/format';
import { saveTextFile, useApiEvent, useAsync, useDataUrl } from '../lib/hooks';
import { recordEvents, runViewFromRecord } from '../reasoning/recordView';
import { RunDetails } from '../reasoning/RunDetails';
import { applyEvents, idleRun, isActive, type RunView } from '../reasoning/runState';
import { useReasoningRun } from '../reasoning/useReasoningRun';

/** Past runs (audit records), per study or all; a record opens as the transcript with its hits, and exports as HTML. */
export function HistoryScreen({ active }: { active: boolean }) {
  const { study, historyRequest } = useApp();
  const [scope, setScope] = useState<'study' | 'all'>(study ? 'study' : 'all');
  const [selected, setSelected] = useState<string | null>(null);
  const studyUid = scope === 'study' ? (study?.studyInstanceUid ?? null) : null;
  const list = useAsync(
    () => window.api.history.list(studyUid ? { studyInstanceUid: studyUid, limit: 500 } : { limit: 500 }),
    [studyUid, active],
  );
  useApiEvent(window.api.runs.onFinished, ({ kind }) => {
    if (kind.startsWith('reasoning')) list.reload();
  });

  // A run opened from the reading panel: select it (adjusting state while rendering, once per request).
  const [handledRequest, setHandledRequest] = useState(historyRequest);
  if (historyRequest !== handledRequest) {
    setHandledRequest(historyRequest);
    if (historyRequest) {
      setSelected(historyRequest.runId);
      setScope('all');
    }
  }

  const runs = useMemo(() => list.data ?? [], [list.data]);
  useEffect(() => {
    if (!active) return;
    const onKey = (e: KeyboardEvent): void => {
      const target = e.target as HTMLElement | null;
      if (target && ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName)) return;
      if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
      e.preventDefault();
      const i = runs.findIndex((r) => r.runId === selected);
      const next = Math.max(0, Math.min(runs.length - 1, i + (e.key === 'ArrowDown' ? 1 : -1)));
      if (runs[next]) setSelected(runs[next].runId);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [active, runs, selected]);

  return (
    <div className="history-screen" data-testid="history-screen">
      <div className="history-list">
        <div className="toolbar">
          <div className="seg-group" role="radiogroup" aria-label="Scope">
            <button type="button" role="radio" aria-checked={scope === 'study'} className={`seg${scope === 'study' ? ' seg-active' : ''}`} onClick={() => setScope('study')} disabled={!study}>
              This study
            </button>
            <button type="button" role="radio" aria-checked={scope === 'all'} className={`seg${scope === 'all' ? ' seg-active' : ''}`} onClick={() => setScope('all')}>
              All runs
            </button>
          </div>
          <span className="toolbar-spacer" />
          <button type="button" className="btn" onClick={list.reload} title="Refresh">
            <Icon name="refresh" />
          </button>
        </div>
        {list.error && !list.data ? (
          <ErrorNotice error={list.error} title="The run history could not be loaded" />
        ) : runs.length === 0 && !list.loading ? (
          <EmptyState icon="history" title="No runs recorded yet" testId="history-empty">
            Every analysis is recorded here with its image, transcript, evidence and model hashes. Open a study and ask a
            question in the reading panel.
          </EmptyState>
        ) : (
          <ul className="run-list" data-testid="run-list">
            {runs.map((r) => (
              <RunListItem key={r.runId} run={r} selected={r.runId === selected} onSelect={() => setSelected(r.runId)} />
            ))}
          </ul>
        )}
      </div>
      <div className="history-detail">
        {selected ? (
          <RecordView key={selected} runId={selected} onOpenRun={(id) => setSelected(id)} />
        ) : (
          <EmptyState icon="history" title="Select a run">
            Choose a run on the left (↑ ↓) to see what the model saw, said and retrieved.
          </EmptyState>
        )}
      </div>
    </div>
  );
}

function RunListItem({ run, selected, onSelect }: { run: RunSummary; selected: boolean; onSelect: () => void }) {
  return (
    <li>
      <button type="button" className={`run-item${selected ? ' run-item-selected' : ''}`} onClick={onSelect} data-testid="run-item">
        <span className="run-item-top">
          <span className={`status-dot status-${run.status}`} title={run.status} />
          <span className="mono muted">{formatTimestamp(run.startedAt)}</span>
          <span className="badge">{run.mode}</span>
          {run.cdirTriggered ? <span className="badge badge-warn">CDIR</span> : null}
          {run.replayOf ? (
            <span className="badge" title={`Re-run of run ${run.replayOf}`} data-testid="run-item-rerun">
              re-run
            </span>
          ) : null}
        </span>
        <span className="run-item-question">{run.question}</span>
        <span className="run-item-answer">
          {run.answer ? (
            <>
              → <strong>{run.answer}</strong> <span className="muted">({formatProbability(run.confidence)})</span>
            </>
          ) : (
            <span className="muted">{run.status === 'completed' ? 'no answer' : run.status}</span>
          )}
        </span>
      </button>
    </li>
  );
}

function RecordView({ runId, onOpenRun }: { runId: string; onOpenRun: (runId: string) => void }) {
  const record = useAsync(() => window.api.history.get({ runId }), [runId]);
  const rerun = useReasoningRun();
  const rerunning = isActive(rerun.run);
  const [replayView, setReplayView] = useState<RunView | null>(null);
  const [replaying, setReplaying] = useState(false);
  const [report, setReport] = useState<ExportedReport | null>(null);
  const [exportError, setExportError] = useState<unknown>(null);
  const [exporting, setExporting] = useState(false);
  const replayRef = useRef<number | null>(null);

  const storedView = useMemo(() => (record.data ? runViewFromRecord(record.data) : null), [record.data]);
  const view = replayView ?? storedView;
  useEffect(() => () => {
    if (replayRef.current !== null) cancelAnimationFrame(replayRef.current);
  }, []);

  if (record.error) return <ErrorNotice error={record.error} title="This run could not be opened" />;
  if (!record.data || !view) return <div className="muted pad">Loading the record…</div>;
  const r = record.data;

  const replay = (): void => {
    if (replayRef.current !== null) cancelAnimationFrame(replayRef.current);
    const events = recordEvents(r);
    const started = Date.now();
    let state: RunView = { ...idleRun, runId: r.runId, status: 'running', startedAt: started };
    let position = 0;
    setReplaying(true);
    // About 200 events per second, the rate of a fast local model.
    const tick = (): void => {
      const target = Math.min(events.length, Math.ceil(((Date.now() - started) / 1000) * 200));
      state = applyEvents(state, events.slice(position, target), Date.now());
      position = target;
      if (position >= events.length) {
        replayRef.current = null;
        setReplaying(false);
        setReplayView(null);
        return;
      }
      setReplayView(state);
      replayRef.current = requestAnimationFrame(tick);
    };
    replayRef.current = requestAnimationFrame(tick);
  };

  const exportHtml = async (): Promise<void> => {
    setExporting(true);
    try {
      const exported = await window.api.history.exportHtml({ runId: r.runId });
      setReport(exported);
      setExportError(null);
    } catch (e) {
      setExportError(e);
    } finally {
      setExporting(false);
    }
  };

  return (
    <div className="record-view" data-testid="record-view" data-run-id={r.runId}>
      <header className="record-header">
        <div>
          <h2 className="record-question">{r.question}</h2>
          {r.choices && r.choices.length > 0 ? <div className="muted">Choices: {r.choices.join(' · ')}</div> : null}
        </div>
        <div className="record-actions">
          <button
            type="button"
            className="btn"
            onClick={replay}
            disabled={replaying}
            title="Play the stored transcript back as it streamed"
            data-testid="replay"
          >
            <Icon name="play" /> {replaying ? 'Replaying…' : 'Replay'}
          </button>
          <button
            type="button"
            className="btn"
            onClick={() => void rerun.start(() => window.api.history.replay({ runId: r.runId }))}
            disabled={rerunning}
            title="Run the recorded question again on the loaded model with the recorded image, settings and evidence, and compare the transcripts"
            data-testid="rerun"
          >
            <Icon name="refresh" /> {rerunning ? 'Re-running…' : 'Re-run'}
          </button>
          <button type="button" className="btn btn-primary" onClick={() => void exportHtml()} disabled={exporting} data-testid="export-html">
            <Icon name="export" /> Export HTML report
          </button>
        </div>
      </header>
      {exportError ? <ErrorNotice error={exportError} title="The report could not be exported" compact /> : null}
      {rerun.run.status !== 'idle' ? (
        <RerunPanel run={rerun.run} original={r} onStop={rerun.stop} onClose={rerun.clear} onOpenRun={onOpenRun} />
      ) : null}
      <div className="record-grid">
        <ModelImageCard record={r} />
        <dl className="record-facts" data-testid="record-facts">
          <dt>Started</dt>
          <dd>{formatTimestamp(r.startedAt)}</dd>
          <dt>Mode</dt>
          <dd>
            {r.mode} · seed {r.seed} · k {r.settings.retrieval.k} · ≤{r.settings.retrieval.maxRounds} rounds · threshold{' '}
            {r.settings.reasoning.cdirThreshold}
          </dd>
          <dt>Outcome</dt>
          <dd>
            {r.status} · {r.endReason}
          </dd>
          <dt>Timings</dt>
          <dd>
            total {formatDuration(r.timings.totalMs)} · model {formatDuration(r.timings.modelMs)} · retrieval{' '}
            {formatDuration(r.timings.retrievalMs)}
          </dd>
          <dt>Window</dt>
          <dd>{r.window ? `W ${r.window.width} / L ${r.window.center}` : '—'}</dd>
          <dt>Image</dt>
          <dd className="mono" title={r.imageSha256 ?? ''}>
            sha256 {shortHash(r.imageSha256, 16)}
          </dd>
          <dt>Models</dt>
          <dd className="small">
            {r.modelNames.reasoner ?? 'reasoner'} <span className="mono muted">{shortHash(r.models.reasoner)}</span>
            {r.modelNames.mmproj || r.models.mmproj ? (
              <>
                {' '}
                · {r.modelNames.mmproj ?? 'mmproj'} <span className="mono muted">{shortHash(r.models.mmproj)}</span>
              </>
            ) : null}
            <br />
            embedding <span className="mono muted">{shortHash(r.models.embedding)}</span> · knowledge base{' '}
            <span className="mono muted">{shortHash(r.models.knowledgeBase)}</span>
          </dd>
          <dt>CDIR</dt>
          <dd>
            {r.cdir.decision}
            {r.cdir.placement ? ` (${r.cdir.placement})` : ''} · {r.cdir.reason}
          </dd>
          {r.replayOf ? (
            <>
              <dt>Replay of</dt>
              <dd>
                <span className="mono">{r.replayOf.slice(0, 8)}</span>{' '}
                {r.replayMatch ? (
                  r.replayMatch.identical ? (
                    <span className="text-ok">✓ reproduced the original transcripts exactly</span>
                  ) : (
                    <span className="text-warn">
                      differs from the original (first difference at character{' '}
                      {r.replayMatch.attempts.find((a) => !a.identical)?.firstDifference ?? '?'})
                    </span>
                  )
                ) : null}
              </dd>
            </>
          ) : null}
        </dl>
      </div>
      <RunDetails run={view} threshold={r.settings.reasoning.cdirThreshold} keyboard={false} />
      {report ? <ReportPreview report={report} onClose={() => setReport(null)} /> : null}
    </div>
  );
}

/**
 * A re-run of the record on the loaded model, streamed as it runs (the same view as the reading panel), then whether
 * each attempt reproduced the recorded transcript.
 */
function RerunPanel({
  run,
  original,
  onStop,
  onClose,
  onOpenRun,
}: {
  run: RunView;
  original: RunRecord;
  onStop: () => void;
  onClose: () => void;
  onOpenRun: (runId: string) => void;
}) {
  const active = isActive(run);
  const [replayed, setReplayed] = useState<RunRecord | null>(null);
  const ended = !active && run.runId !== null;
  useEffect(() => {
    if (!ended || !run.runId) return;
    let current = true;
    // The record is written before the run's last event: it holds the comparison.
    window.api.history.get({ runId: run.runId }).then(
      (record) => current && setReplayed(record),
      () => undefined,
    );
    return () => {
      current = false;
    };
  }, [ended, run.runId]);
  const refused = run.status === 'failed' && run.runId === null;
  return (
    <section className="rerun-panel card" data-testid="rerun-panel" data-status={run.status} aria-label="Re-run of this record">
      <header className="rerun-head">
        <strong>Re-run on the loaded model</strong>
        <span className="muted small">
          recorded image, settings (seed {original.seed}, temperature {original.settings.reasoning.temperature}), passages and similar case
        </span>
        <span className="toolbar-spacer" />
        {active ? (
          <button type="button" className="btn btn-danger btn-small" onClick={onStop} data-testid="rerun-stop">
            <Icon name="stop" /> Stop
          </button>
        ) : (
          <>
            {replayed ? (
              <button type="button" className="btn btn-small" onClick={() => onOpenRun(replayed.runId)} data-testid="rerun-open">
                <Icon name="history" /> Open its record
              </button>
            ) : null}
            <button type="button" className="btn btn-small" onClick={onClose}>
              Close
            </button>
          </>
        )}
      </header>
      {refused ? (
        <ErrorNotice
          error={run.error}
          title={
            run.error?.code === 'REPLAY_MODEL_MISMATCH'
              ? 'This run cannot be re-run: another model is loaded'
              : 'This run cannot be re-run'
          }
        />
      ) : (
        <>
          {replayed?.replayMatch ? <ReplayMatchView match={replayed.replayMatch} /> : null}
          <RunDetails run={run} threshold={original.settings.reasoning.cdirThreshold} keyboard={false} />
        </>
      )}
    </section>
  );
}

function ReplayMatchView({ match }: { match: ReplayMatch }) {
  return (
    <div className={`replay-match ${match.identical ? 'replay-match-ok' : 'replay-match-differs'}`} data-testid="replay-match" data-identical={match.identical}>
      <strong>
        {match.identical
          ? '✓ The re-run matches the recorded run exactly'
          : '✗ The re-run differs from the recorded run'}
      </strong>
      <ul>
        {match.attempts.map((a) => (
          <li key={a.attempt} data-testid="replay-match-attempt">
            Attempt {a.attempt}
            {a.attempt > 1 ? ' (CDIR)' : ''}:{' '}
            {a.identical ? (
              <span className="text-ok">transcript matches</span>
            ) : (
              <span className="text-warn">differs from character {a.firstDifference ?? '?'}</span>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Re-renders the exact image the model saw from its instance, frame and window, and checks its hash. */
function ModelImageCard({ record }: { record: RunRecord }) {
  const [png, setPng] = useState<Uint8Array | null>(null);
  const [verified, setVerified] = useState<boolean | null>(null);
  useEffect(() => {
    if (!record.sopInstanceUid || record.frame === null) return;
    let current = true;
    window.api.studies.modelImage({ sopInstanceUid: record.sopInstanceUid, frame: record.frame, window: record.window }).then(
      (image) => {
        if (!current) return;
        setPng(image.png);
        setVerified(record.imageSha256 ? image.sha256 === record.imageSha256 : null);
      },
      () => undefined,
    );
    return () => {
      current = false;
    };
  }, [record]);
  const url = useDataUrl(png);
  return (
    <figure className="model-image">
      {url ? <img src={url} alt="The image the model saw" /> : <div className="model-image-empty">{record.sopInstanceUid ? 'image unavailable' : 'no image'}</div>}
      <figcaption className="small">
        {verified === true ? <span className="text-ok">✓ identical to the recorded bytes</span> : null}
        {verified === false ? <span className="text-warn">re-rendered image differs from the recorded hash</span> : null}
      </figcaption>
    </figure>
  );
}

/** The exported report in a sandboxed frame (no scripts), with a button to save it as a file. */
function ReportPreview({ report, onClose }: { report: ExportedReport; onClose: () => void }) {
  const [saved, setSaved] = useState(false);
  return (
    <Modal
      title={report.fileName}
      onClose={onClose}
      wide
      testId="report-preview"
      actions={
        <button
          type="button"
          className="btn btn-primary"
          onClick={() => {
            saveTextFile(report.fileName, report.html);
            setSaved(true);
          }}
          data-testid="save-report"
        >
          <Icon name="export" /> {saved ? 'Saved' : 'Save file…'}
        </button>
      }
    >
      <iframe className="report-frame" title="Report preview" sandbox="" srcDoc={report.html} data-testid="report-frame" />
    </Modal>
  );
}
