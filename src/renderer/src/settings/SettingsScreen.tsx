import { useState } from 'react';
import type { ConfidenceSource, ReasoningMode, RetrievalMode, Settings } from '../../../shared/contract';
import { useApp } from '../AppContext';
import { ErrorNotice } from '../components/ErrorNotice';
import { Icon, type IconName } from '../components/Icon';
import { KnowledgeSection } from './KnowledgeSection';
import { ModelsSection } from './ModelsSection';

type Section = 'models' | 'knowledge' | 'retrieval' | 'privacy';

const sections: { section: Section; label: string; icon: IconName }[] = [
  { section: 'models', label: 'Models & engine', icon: 'chip' },
  { section: 'knowledge', label: 'Knowledge base', icon: 'book' },
  { section: 'retrieval', label: 'Retrieval & reasoning', icon: 'search' },
  { section: 'privacy', label: 'Privacy & data', icon: 'shield' },
];

export function SettingsScreen({ active }: { active: boolean }) {
  const [section, setSection] = useState<Section>('models');
  const { settings, connectionError } = useApp();
  return (
    <div className="settings-screen" data-testid="settings-screen">
      <nav className="settings-nav" aria-label="Settings sections">
        {sections.map((s) => (
          <button
            key={s.section}
            type="button"
            className={`settings-nav-item${section === s.section ? ' settings-nav-active' : ''}`}
            onClick={() => setSection(s.section)}
            data-testid={`settings-${s.section}-tab`}
          >
            <Icon name={s.icon} /> {s.label}
          </button>
        ))}
      </nav>
      <div className="settings-body">
        {!settings ? (
          connectionError ? <ErrorNotice error={connectionError} /> : <p className="muted">Loading settings…</p>
        ) : section === 'models' ? (
          <ModelsSection />
        ) : section === 'knowledge' ? (
          active ? <KnowledgeSection /> : null
        ) : section === 'retrieval' ? (
          <RetrievalSection settings={settings} />
        ) : (
          <PrivacySection />
        )}
      </div>
    </div>
  );
}

function RetrievalSection({ settings }: { settings: Settings }) {
  const { updateSettings } = useApp();
  const [draft, setDraft] = useState({ retrieval: settings.retrieval, reasoning: settings.reasoning, engine: settings.engine });
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [draftOf, setDraftOf] = useState(settings);
  if (settings !== draftOf) {
    setDraftOf(settings);
    setDraft({ retrieval: settings.retrieval, reasoning: settings.reasoning, engine: settings.engine });
  }
  const dirty = JSON.stringify(draft) !== JSON.stringify({ retrieval: settings.retrieval, reasoning: settings.reasoning, engine: settings.engine });

  const set = <S extends 'retrieval' | 'reasoning' | 'engine', K extends keyof (typeof draft)[S]>(s: S, k: K, v: (typeof draft)[S][K]): void => {
    setDraft((d) => ({ ...d, [s]: { ...d[s], [k]: v } }));
    setSaved(false);
  };
  const save = async (): Promise<void> => {
    try {
      await updateSettings(draft);
      setError(null);
      setSaved(true);
    } catch (e) {
      setError(e);
    }
  };
  const num = (value: string): number => (value.trim() === '' ? Number.NaN : Number(value));

  return (
    <div className="settings-section" data-testid="settings-retrieval">
      <h2>Retrieval & reasoning</h2>
      <div className="form-grid">
        <label>
          Passages per query (k)
          <input type="number" min={1} max={50} value={draft.retrieval.k} onChange={(e) => set('retrieval', 'k', num(e.target.value))} data-testid="setting-k" />
          <span className="field-note">Defaults to 3, as in Med-RwR.</span>
        </label>
        <label>
          Retrieval rounds (max)
          <input type="number" min={0} max={10} value={draft.retrieval.maxRounds} onChange={(e) => set('retrieval', 'maxRounds', num(e.target.value))} />
          <span className="field-note">Defaults to 3, as in Med-RwR.</span>
        </label>
        <label>
          Retrieval mode
          <select value={draft.retrieval.mode} onChange={(e) => set('retrieval', 'mode', e.target.value as RetrievalMode)}>
            <option value="hybrid">Hybrid (bm25 + vectors, RRF)</option>
            <option value="lexical">Lexical (bm25)</option>
            <option value="vector">Vector</option>
          </select>
          <span className="field-note">Vector and hybrid fall back to lexical without an embedding model.</span>
        </label>
        <label>
          Default reasoning mode
          <select value={draft.reasoning.mode} onChange={(e) => set('reasoning', 'mode', e.target.value as ReasoningMode)}>
            <option value="rwr+cdir">RwR + CDIR</option>
            <option value="rwr">RwR</option>
            <option value="direct">Direct</option>
          </select>
        </label>
        <label className="span-2">
          CDIR threshold: <strong>{Number.isFinite(draft.reasoning.cdirThreshold) ? draft.reasoning.cdirThreshold.toFixed(2) : '—'}</strong>
          <div className="range-row">
            <input
              type="range"
              min={0}
              max={1}
              step={0.01}
              value={draft.reasoning.cdirThreshold}
              onChange={(e) => set('reasoning', 'cdirThreshold', Number(e.target.value))}
            />
            <input
              type="number"
              min={0}
              max={1}
              step={0.01}
              value={draft.reasoning.cdirThreshold}
              onChange={(e) => set('reasoning', 'cdirThreshold', num(e.target.value))}
              data-testid="setting-cdir-threshold"
            />
          </div>
          <span className="field-note">Below this answer probability, CDIR re-reasons with a similar case. Defaults to 0.9 (the paper's).</span>
        </label>
        <label>
          Confidence used for the trigger
          <select value={draft.reasoning.confidenceSource} onChange={(e) => set('reasoning', 'confidenceSource', e.target.value as ConfidenceSource)}>
            <option value="first-token">First answer token (paper)</option>
            <option value="option-mass">Option mass (closed questions)</option>
          </select>
        </label>
        <label>
          Max new tokens
          <input type="number" min={1} max={32768} value={draft.reasoning.maxTokens} onChange={(e) => set('reasoning', 'maxTokens', num(e.target.value))} data-testid="setting-max-tokens" />
        </label>
        <label>
          Temperature
          <input type="number" min={0} max={5} step={0.05} value={draft.reasoning.temperature} onChange={(e) => set('reasoning', 'temperature', num(e.target.value))} data-testid="setting-temperature" />
          <span className="field-note">0 = greedy: the same question on the same image reproduces the run.</span>
        </label>
        <label>
          Seed
          <input type="number" min={0} value={draft.reasoning.seed} onChange={(e) => set('reasoning', 'seed', num(e.target.value))} data-testid="setting-seed" />
        </label>
        <label className="check-row span-2">
          <input type="checkbox" checked={draft.reasoning.grammarConstrained} onChange={(e) => set('reasoning', 'grammarConstrained', e.target.checked)} data-testid="setting-grammar" />
          <span>Constrain decoding to the protocol grammar (helps small models keep to think/query/answer)</span>
        </label>
        <label>
          Grammar: thought per step (characters)
          <input
            type="number"
            min={8}
            max={100000}
            value={draft.reasoning.grammarThinkChars ?? 2000}
            disabled={!draft.reasoning.grammarConstrained}
            onChange={(e) => set('reasoning', 'grammarThinkChars', num(e.target.value))}
            data-testid="setting-grammar-think-chars"
          />
          <span className="field-note">Then the model must query or answer; a thought it loops in is closed. Defaults to 2000.</span>
        </label>
        <label>
          Grammar: one query (characters)
          <input
            type="number"
            min={8}
            max={1999}
            value={draft.reasoning.grammarQueryChars ?? 300}
            disabled={!draft.reasoning.grammarConstrained}
            onChange={(e) => set('reasoning', 'grammarQueryChars', num(e.target.value))}
            data-testid="setting-grammar-query-chars"
          />
          <span className="field-note">Defaults to 300.</span>
        </label>
        <h3 className="span-2">Engine</h3>
        <label>
          GPU layers
          <input
            type="text"
            value={String(draft.engine.gpuLayers)}
            onChange={(e) => set('engine', 'gpuLayers', e.target.value.trim() === 'auto' ? 'auto' : num(e.target.value))}
          />
          <span className="field-note">“auto” offloads as many layers as fit; 0 = CPU only.</span>
        </label>
        <label>
          Context size (tokens)
          <input type="number" min={512} value={draft.engine.contextSize} onChange={(e) => set('engine', 'contextSize', num(e.target.value))} data-testid="setting-context" />
        </label>
        <label>
          CPU threads
          <input
            type="text"
            value={draft.engine.threads === null ? 'auto' : String(draft.engine.threads)}
            onChange={(e) => set('engine', 'threads', e.target.value.trim() === 'auto' || e.target.value.trim() === '' ? null : num(e.target.value))}
          />
          <span className="field-note">“auto” = the physical cores.</span>
        </label>
        <label className="check-row">
          <input type="checkbox" checked={draft.engine.mmprojOffload} onChange={(e) => set('engine', 'mmprojOffload', e.target.checked)} />
          <span>Run the vision projector on the GPU</span>
        </label>
      </div>
      <div className="form-actions">
        <button type="button" className="btn btn-primary" onClick={() => void save()} disabled={!dirty} data-testid="save-retrieval">
          Save
        </button>
        <button type="button" className="btn" onClick={() => setDraft({ retrieval: settings.retrieval, reasoning: settings.reasoning, engine: settings.engine })} disabled={!dirty}>
          Revert
        </button>
        {saved && !dirty ? <span className="text-ok">Saved; the next run uses these settings.</span> : null}
      </div>
      {error ? <ErrorNotice error={error} title="Not saved" compact /> : null}
    </div>
  );
}

function PrivacySection() {
  const { info } = useApp();
  return (
    <div className="settings-section" data-testid="settings-privacy">
      <h2>Privacy & data</h2>
      <div className="privacy-banner">
        <Icon name="shield" size={28} />
        <div>
          <strong>No network.</strong> The station sends nothing off this workstation: every request that is not its own is
          refused, models run locally, and nothing is downloaded at install or run time.
          <div className="muted">Status: {info ? `network ${info.network}` : 'checking…'}</div>
        </div>
      </div>
      <dl className="facts">
        <dt>Data folder</dt>
        <dd className="mono" data-testid="data-dir">
          {info?.dataDir ?? '—'}
        </dd>
        <dt>Database</dt>
        <dd className="mono">{info?.databasePath ?? '—'}</dd>
        <dt>Version</dt>
        <dd>
          {info?.version ?? '—'} · {info?.platform ?? ''}
        </dd>
      </dl>
      <h3>What is stored, and where</h3>
      <ul className="bullets">
        <li>The study index (patient, study, series and instance headers) in the database; the DICOM files stay where they were imported from.</li>
        <li>
          Every analysis as an audit record: the question, the exact image bytes' sha256 and window, the full transcript, every
          query with its hits and scores, the confidences, the CDIR decision, the settings and the model hashes.
        </li>
        <li>The knowledge base (passages with their sources and licenses) and the image-case corpus.</li>
        <li>Settings. No usage data or telemetry is collected.</li>
      </ul>
      <p className="muted">Removing a study removes it from the index only; files on disk are never deleted by the station.</p>
    </div>
  );
}
