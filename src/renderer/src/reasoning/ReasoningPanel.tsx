import { useEffect, useEffectEvent, useRef, useState } from 'react';
import type { AskRequest, KnowledgeStats, ReasoningMode, StudySummary } from '../../../shared/contract';
import { useApp } from '../AppContext';
import { Icon } from '../components/Icon';
import { KnowledgeBuildingNotice } from '../components/KnowledgeBuildingNotice';
import { errorInfo } from '../lib/apiErrors';
import { isTypingTarget } from '../lib/hooks';
import { useKnowledgeReadiness } from '../lib/useKnowledgeReadiness';
import type { ViewerImage } from '../viewer/Viewer';
import { KnowledgeSearch } from './KnowledgeSearch';
import { RunDetails } from './RunDetails';
import { isActive } from './runState';
import { useReasoningRun } from './useReasoningRun';

const modes: { mode: ReasoningMode; label: string; title: string }[] = [
  { mode: 'direct', label: 'Direct', title: 'The model answers from the image alone, without retrieval' },
  { mode: 'rwr', label: 'RwR', title: 'Reasoning with retrieval: the model may query the knowledge base (up to the configured rounds)' },
  {
    mode: 'rwr+cdir',
    label: 'RwR + CDIR',
    title: 'Retrieval, and when the answer confidence is below the threshold, re-reasoning with a similar case',
  },
];

/** Parses the optional choices field: one per line, or separated by commas or semicolons. */
export function parseChoices(text: string): string[] {
  return text
    .split(/[\n;,]/)
    .map((c) => c.trim())
    .filter(Boolean);
}

export function ReasoningPanel({ study, image, active }: { study: StudySummary; image: ViewerImage | null; active: boolean }) {
  const { settings, engine, engineError, navigate, openHistoryRun } = useApp();
  const { run, ask, stop, clear } = useReasoningRun();
  const [tab, setTab] = useState<'ask' | 'search'>('ask');
  const [question, setQuestion] = useState('');
  const [choices, setChoices] = useState('');
  const [mode, setMode] = useState<ReasoningMode | null>(null);
  const [withImage, setWithImage] = useState(true);
  const [stats, setStats] = useState<KnowledgeStats | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const questionRef = useRef<HTMLTextAreaElement>(null);
  const readiness = useKnowledgeReadiness();
  const building = readiness?.state === 'building';
  const running = isActive(run);
  const effectiveMode = mode ?? settings?.reasoning.mode ?? 'rwr+cdir';
  const noModel = settings !== null && !settings.models.reasoner;

  useEffect(() => {
    if (!active) return;
    window.api.knowledge.stats().then(setStats, () => setStats(null));
  }, [active, building]);

  const analyze = (): void => {
    if (!question.trim() || running) return;
    const request: AskRequest = {
      question: question.trim(),
      image: withImage && image ? { kind: 'instance', sopInstanceUid: image.sopInstanceUid, frame: image.frame, window: image.window } : null,
      studyInstanceUid: study.studyInstanceUid,
      mode: effectiveMode,
    };
    const parsed = parseChoices(choices);
    if (parsed.length > 0) request.choices = parsed;
    void ask(request);
  };

  const onAnalyzeKey = useEffectEvent(analyze);
  useEffect(() => {
    if (!active) return;
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        onAnalyzeKey();
      } else if (e.key === 'Escape' && running) {
        e.preventDefault();
        stop();
      } else if (e.key === 'q' && !isTypingTarget(e.target) && !e.ctrlKey && !e.altKey && !e.metaKey) {
        e.preventDefault();
        setTab('ask');
        questionRef.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [active, running, stop]);

  const loadModel = async (): Promise<void> => {
    try {
      setLoadError(null);
      await window.api.engine.load({ roles: ['reasoner', 'mmproj'] });
    } catch (e) {
      setLoadError(e);
    }
  };

  const reasonerState = engine?.reasoner.state;
  const kbEmpty = stats !== null && stats.passages === 0;

  return (
    <aside className="reasoning-panel" aria-label="Reasoning" data-testid="reasoning-panel">
      <div className="panel-tabs" role="tablist">
        <button type="button" role="tab" aria-selected={tab === 'ask'} className={`panel-tab${tab === 'ask' ? ' panel-tab-active' : ''}`} onClick={() => setTab('ask')}>
          Ask the model
        </button>
        <button
          type="button"
          role="tab"
          aria-selected={tab === 'search'}
          className={`panel-tab${tab === 'search' ? ' panel-tab-active' : ''}`}
          onClick={() => setTab('search')}
          data-testid="tab-knowledge-search"
        >
          Search knowledge
        </button>
      </div>

      {tab === 'search' ? (
        <KnowledgeSearch defaultK={settings?.retrieval.k ?? 3} />
      ) : (
        <div className="panel-scroll">
          {noModel ? (
            <div className="notice notice-unavailable" data-testid="no-model-notice">
              <Icon name="info" />
              <div className="notice-body">
                <strong>No reasoning model configured</strong>
                <span className="notice-message">
                  Choose a GGUF model and its vision projector in Settings → Models. Retrieval-only search still works.
                </span>
                <div className="notice-action">
                  <button type="button" className="btn" onClick={() => navigate('settings')}>
                    Open model settings
                  </button>
                  <button type="button" className="btn" onClick={() => setTab('search')}>
                    Search knowledge
                  </button>
                </div>
              </div>
            </div>
          ) : engineError ? null : reasonerState === 'unloaded' || reasonerState === 'failed' ? (
            <div className="notice notice-unavailable">
              <Icon name="info" />
              <div className="notice-body">
                <span className="notice-message">
                  {reasonerState === 'failed'
                    ? `The model failed to load: ${engine?.reasoner.error?.message ?? 'unknown reason'}`
                    : 'The model is configured but not loaded yet.'}
                </span>
                {loadError ? <span className="notice-hint">{errorInfo(loadError).message}</span> : null}
                <div className="notice-action">
                  <button type="button" className="btn" onClick={() => void loadModel()}>
                    Load model
                  </button>
                </div>
              </div>
            </div>
          ) : reasonerState === 'ready' && !engine?.visionReady && withImage ? (
            <div className="notice notice-unavailable" data-testid="no-vision-notice">
              <Icon name="warning" />
              <span className="notice-message">
                The loaded model has no vision projector: it cannot see the image and answers from the question (and
                retrieved knowledge) alone. Add an mmproj file in Settings → Models.
              </span>
            </div>
          ) : null}
          <KnowledgeBuildingNotice readiness={readiness} what="Questions asked now" />
          {kbEmpty && !building && effectiveMode !== 'direct' ? (
            <div className="notice notice-unavailable" data-testid="kb-empty-notice">
              <Icon name="book" />
              <div className="notice-body">
                <span className="notice-message">The knowledge base is empty: the model's queries will find nothing.</span>
                <div className="notice-action">
                  <button type="button" className="btn" onClick={() => navigate('settings')}>
                    Add knowledge sources
                  </button>
                </div>
              </div>
            </div>
          ) : null}

          <form
            className="ask-form"
            onSubmit={(e) => {
              e.preventDefault();
              analyze();
            }}
          >
            <label htmlFor="question">Question</label>
            <textarea
              id="question"
              ref={questionRef}
              rows={3}
              value={question}
              onChange={(e) => setQuestion(e.target.value)}
              placeholder="e.g. Is there evidence of pneumothorax?   (Q to focus · Ctrl+Enter to analyze)"
              data-testid="question"
              disabled={running}
            />
            <label htmlFor="choices">
              Choices <span className="muted">(optional — one per line, or comma-separated)</span>
            </label>
            <div className="choices-row">
              <input
                id="choices"
                type="text"
                value={choices}
                onChange={(e) => setChoices(e.target.value)}
                placeholder="yes, no"
                data-testid="choices"
                disabled={running}
              />
              <button type="button" className="btn btn-small" onClick={() => setChoices('yes, no')} disabled={running} title="A yes/no question">
                Yes/No
              </button>
            </div>
            <div className="mode-row" role="radiogroup" aria-label="Reasoning mode">
              {modes.map((m) => (
                <button
                  key={m.mode}
                  type="button"
                  role="radio"
                  aria-checked={effectiveMode === m.mode}
                  className={`seg${effectiveMode === m.mode ? ' seg-active' : ''}`}
                  onClick={() => setMode(m.mode)}
                  title={m.title}
                  disabled={running}
                  data-testid={`mode-${m.mode}`}
                >
                  {m.label}
                </button>
              ))}
            </div>
            <label className="check-row">
              <input type="checkbox" checked={withImage} onChange={(e) => setWithImage(e.target.checked)} disabled={running} />
              <span>
                Send the image on screen{' '}
                <span className="muted" data-testid="model-image-label">
                  {image ? `(${image.label})` : '(no image shown)'}
                </span>
              </span>
            </label>
            <div className="ask-actions">
              {running ? (
                <button type="button" className="btn btn-danger" onClick={stop} data-testid="stop">
                  <Icon name="stop" /> Stop <kbd className="kbd">Esc</kbd>
                </button>
              ) : (
                <button type="submit" className="btn btn-primary" disabled={!question.trim() || noModel} data-testid="analyze">
                  <Icon name="play" /> Analyze <kbd className="kbd">Ctrl+Enter</kbd>
                </button>
              )}
              {!running && run.status !== 'idle' ? (
                <>
                  <button type="button" className="btn" onClick={clear}>
                    Clear
                  </button>
                  {run.runId && run.status !== 'failed' ? (
                    <button type="button" className="btn" onClick={() => run.runId && openHistoryRun(run.runId)} data-testid="open-in-history">
                      <Icon name="history" /> Record
                    </button>
                  ) : null}
                </>
              ) : null}
            </div>
          </form>
          <RunDetails run={run} threshold={settings?.reasoning.cdirThreshold ?? null} keyboard={active} />
        </div>
      )}
    </aside>
  );
}
