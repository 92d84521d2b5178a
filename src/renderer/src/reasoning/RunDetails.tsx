import { useEffect, useState } from 'react';
import type { SearchHit } from '../../../shared/contract';
import { ErrorNotice } from '../components/ErrorNotice';
import { Icon } from '../components/Icon';
import { formatDuration } from '../lib/format';
import { CdirBanner } from './CdirBanner';
import { ConfidenceMeter } from './ConfidenceMeter';
import { HitCard, PassageModal } from './HitCard';
import { finalAnswer, isActive, phaseLabels, type RunView } from './runState';
import { TranscriptView } from './TranscriptView';

/** The time, refreshed every 250 ms while `ticking` (for the elapsed time of a live run). */
function useClock(ticking: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!ticking) return;
    const handle = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(handle);
  }, [ticking]);
  return now;
}

const reasons: Record<string, string> = {
  'no-hits': 'No passage matched: the knowledge base may be empty or the query too narrow.',
  empty: 'The model asked an empty query; nothing was searched.',
  'round-limit': 'The retrieval round limit was reached; the model was told “None”.',
  'retrieval-disabled': 'Retrieval is off in this mode; the model was told “None”.',
  unavailable: 'The knowledge base was not available; the model was told “None”.',
};

function roundReason(reason: string | null): string {
  return reason ? (reasons[reason] ?? reason) : reasons['no-hits']!;
}

/** Everything an evaluator needs to see why the model answered what it did; shared by the live panel and history. */
export function RunDetails({ run, threshold, keyboard }: { run: RunView; threshold: number | null; keyboard: boolean }) {
  const [thinkingOpen, setThinkingOpen] = useState(true);
  const [openHit, setOpenHit] = useState<SearchHit | null>(null);
  const active = isActive(run);
  const answer = finalAnswer(run);
  const rounds = run.attempts.flatMap((a) => a.rounds);
  const now = useClock(active);
  const elapsed = run.startedAt !== null ? (run.finishedAt ?? now) - run.startedAt : null;

  useEffect(() => {
    if (!keyboard) return;
    const onKey = (e: KeyboardEvent): void => {
      const target = e.target as HTMLElement | null;
      if (target && ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName)) return;
      if ((e.key === 't' || e.key === 'T') && !e.ctrlKey && !e.altKey && !e.metaKey) setThinkingOpen((v) => !v);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [keyboard]);

  if (run.status === 'idle') return null;
  return (
    <div className="run-details" data-testid="run-details" data-status={run.status}>
      <div className={`run-status run-status-${run.status}`} data-testid="run-status">
        {active ? <span className="spinner" aria-hidden="true" /> : null}
        <span>
          {run.status === 'starting'
            ? 'Starting…'
            : run.status === 'running'
              ? run.phase
                ? phaseLabels[run.phase]
                : 'Running'
              : run.status === 'completed'
                ? 'Completed'
                : run.status === 'cancelled'
                  ? 'Stopped'
                  : 'Failed'}
        </span>
        <span className="muted">
          {run.chars.toLocaleString()} chars
          {elapsed !== null && elapsed > 0 ? ` · ${formatDuration(elapsed)}` : ''}
          {run.result ? ` · ${run.result.rounds} round${run.result.rounds === 1 ? '' : 's'} · ${run.result.endReason}` : ''}
        </span>
      </div>

      {run.error ? <ErrorNotice error={run.error} title="The run failed" /> : null}

      {answer ? (
        <section className={`answer-card${answer.kept ? '' : ' answer-provisional'}`} data-testid="final-answer">
          <div className="answer-label">
            {run.status === 'completed' ? 'Answer' : 'Provisional answer'}
            {run.attempts.length > 1 ? <span className="muted"> · attempt {answer.attempt}</span> : null}
          </div>
          <div className="answer-text">{answer.text || <span className="muted">(empty answer)</span>}</div>
          <ConfidenceMeter confidence={answer.confidence} threshold={threshold} />
        </section>
      ) : active ? (
        <section className="answer-card answer-pending">
          <span className="muted">The answer appears here when the model concludes.</span>
        </section>
      ) : null}

      {run.cdir ? <CdirBanner cdir={run.cdir} /> : null}

      <section className="panel-section">
        <button type="button" className="section-toggle" onClick={() => setThinkingOpen((v) => !v)} aria-expanded={thinkingOpen} data-testid="thinking-toggle">
          <Icon name={thinkingOpen ? 'chevronDown' : 'chevronRight'} /> Reasoning
          <span className="muted"> (T)</span>
        </button>
        {thinkingOpen ? <TranscriptView attempts={run.attempts} streaming={active} /> : null}
      </section>

      <section className="panel-section" data-testid="evidence">
        <div className="section-title">
          <Icon name="book" /> Evidence
          <span className="muted">
            {rounds.length} {rounds.length === 1 ? 'query' : 'queries'}
          </span>
        </div>
        {rounds.length > 0 ? (
          <div className="chips" data-testid="query-chips">
            {rounds.map((r) => (
              <a key={`${r.attempt}-${r.round}`} className="query-chip" href={`#round-${r.attempt}-${r.round}`} data-testid="query-chip" title={r.query}>
                <span className="query-chip-round">{r.attempt > 1 ? `${r.attempt}.` : ''}{r.round}</span>
                {r.query || <em>(empty query)</em>}
              </a>
            ))}
          </div>
        ) : (
          <p className="muted small">
            {active ? 'No query yet.' : run.status === 'completed' ? 'The model asked for no knowledge in this run.' : 'No query before the run ended.'}
          </p>
        )}
        {rounds.map((r) => (
          <div key={`${r.attempt}-${r.round}`} className="round" id={`round-${r.attempt}-${r.round}`}>
            <div className="round-head">
              Round {r.round}
              {r.attempt > 1 ? ` · attempt ${r.attempt}` : ''} · “{r.query}”
              {r.lexicalOnly ? (
                <span className="badge badge-warn" title="No embedding model configured: passages were found by keyword (bm25) only.">
                  lexical only
                </span>
              ) : null}
            </div>
            {r.hits === null ? (
              <div className="muted small">Searching…</div>
            ) : r.hits.length === 0 ? (
              <div className="muted small">{roundReason(r.reason)}</div>
            ) : (
              r.hits.map((hit) => <HitCard key={hit.passageId} hit={hit} onOpen={setOpenHit} />)
            )}
          </div>
        ))}
      </section>
      {openHit ? <PassageModal hit={openHit} onClose={() => setOpenHit(null)} /> : null}
    </div>
  );
}
