import { useEffect, useState } from 'react';
import type { LoadedModelStatus, ModelInspection, ModelPaths, ModelRole } from '../../../shared/contract';
import { useApp } from '../AppContext';
import { ErrorNotice } from '../components/ErrorNotice';
import { Icon } from '../components/Icon';
import { PathField } from '../components/PathField';
import { formatBytes, shortHash } from '../lib/format';

const roles: { role: keyof ModelPaths; label: string; help: string }[] = [
  { role: 'reasoner', label: 'Reasoning model (GGUF)', help: 'The multimodal language model, e.g. a Med-RwR or Qwen2.5-VL GGUF.' },
  { role: 'mmproj', label: 'Vision projector (mmproj GGUF)', help: 'Lets the model see the image; without it the model reads text only.' },
  { role: 'embedding', label: 'Embedding model (GGUF)', help: 'For vector retrieval (e.g. bge-m3). Without it retrieval is lexical (bm25) only.' },
  { role: 'reranker', label: 'Reranker (GGUF, optional)', help: 'A cross-encoder that re-orders retrieval candidates.' },
];

export function ModelsSection() {
  const { settings, updateSettings, engine, engineError, refreshEngine } = useApp();
  const [draft, setDraft] = useState<Record<keyof ModelPaths, string>>({ reasoner: '', mmproj: '', embedding: '', reranker: '' });
  const [saveError, setSaveError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [engineActionError, setEngineActionError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);

  // Saved settings replace the draft (adjusting state while rendering when they change).
  const [draftOf, setDraftOf] = useState<ModelPaths | null>(null);
  if (settings && settings.models !== draftOf) {
    setDraftOf(settings.models);
    setDraft({
      reasoner: settings.models.reasoner ?? '',
      mmproj: settings.models.mmproj ?? '',
      embedding: settings.models.embedding ?? '',
      reranker: settings.models.reranker ?? '',
    });
  }

  if (!settings) return null;
  const dirty = roles.some((r) => (settings.models[r.role] ?? '') !== draft[r.role].trim());

  const save = async (): Promise<void> => {
    try {
      await updateSettings({
        models: {
          reasoner: draft.reasoner.trim() || null,
          mmproj: draft.mmproj.trim() || null,
          embedding: draft.embedding.trim() || null,
          reranker: draft.reranker.trim() || null,
        },
      });
      setSaveError(null);
      setSaved(true);
    } catch (e) {
      setSaveError(e);
    }
  };

  const engineAction = async (action: 'load' | 'unload', modelRoles: ModelRole[]): Promise<void> => {
    setBusy(`${action}:${modelRoles.join(',')}`);
    try {
      await window.api.engine[action]({ roles: modelRoles });
      setEngineActionError(null);
      refreshEngine();
    } catch (e) {
      setEngineActionError(e);
    } finally {
      setBusy(null);
    }
  };

  return (
    <div className="settings-section" data-testid="settings-models">
      <h2>Models</h2>
      <p className="muted">
        Models are GGUF files on this workstation; nothing is downloaded. Each file is inspected before anything loads it.
      </p>
      {roles.map((r) => (
        <div key={r.role} className="model-row">
          <PathField
            label={r.label}
            value={draft[r.role]}
            onChange={(value) => {
              setDraft((d) => ({ ...d, [r.role]: value }));
              setSaved(false);
            }}
            dialog={{ title: r.label, kind: 'files', filters: [{ name: 'GGUF models', extensions: ['gguf'] }] }}
            placeholder="/models/….gguf"
            testId={`model-path-${r.role}`}
          />
          <span className="field-note">{r.help}</span>
          <Inspection path={draft[r.role].trim()} role={r.role} />
        </div>
      ))}
      <div className="form-actions">
        <button type="button" className="btn btn-primary" onClick={() => void save()} disabled={!dirty} data-testid="save-models">
          Save model paths
        </button>
        {saved && !dirty ? <span className="text-ok">Saved. Load the models below to use them.</span> : null}
      </div>
      {saveError ? <ErrorNotice error={saveError} title="The model paths were not saved" compact /> : null}

      <h3>Engine</h3>
      {engineError ? (
        <ErrorNotice error={engineError} title="The model engine is not available" />
      ) : engine ? (
        <div className="engine-card" data-testid="engine-status">
          <dl className="facts">
            <dt>Accelerator</dt>
            <dd>
              {engine.gpu && engine.gpu.backend !== 'cpu'
                ? `${engine.gpu.backend.toUpperCase()} · ${engine.gpu.deviceNames.join(', ') || 'device'} · ${formatBytes(engine.gpu.vramFreeBytes)} free of ${formatBytes(engine.gpu.vramTotalBytes)}`
                : 'CPU only (no GPU detected)'}
            </dd>
            <dt>GPU layers</dt>
            <dd>{String(settings.engine.gpuLayers)}</dd>
            <dt>Threads</dt>
            <dd>{engine.threads}</dd>
            <dt>Engine process</dt>
            <dd>
              {engine.processAlive ? <span className="text-ok">running</span> : <span className="text-warn">not running</span>}
              {engine.restarts > 0 ? ` · restarted ${engine.restarts}×` : ''}
            </dd>
            <dt>Vision</dt>
            <dd>{engine.visionReady ? <span className="text-ok">ready</span> : <span className="muted">not available</span>}</dd>
          </dl>
          <table className="table table-compact">
            <thead>
              <tr>
                <th>Role</th>
                <th>State</th>
                <th>File</th>
                <th>sha256</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {(
                [
                  ['reasoner', engine.reasoner, ['reasoner', 'mmproj']],
                  ['embedding', engine.embedding, ['embedding']],
                  ['reranker', engine.reranker, ['reranker']],
                ] as [string, LoadedModelStatus, ModelRole[]][]
              ).map(([name, status, modelRoles]) => (
                <tr key={name} data-testid={`engine-row-${name}`}>
                  <td>{name}</td>
                  <td>
                    <span className={`state state-${status.state}`} data-testid={`engine-state-${name}`}>
                      {status.state}
                    </span>
                    {status.error ? <div className="text-warn small">{status.error.message}</div> : null}
                  </td>
                  <td className="mono small">{status.path ?? '—'}</td>
                  <td className="mono small">{shortHash(status.sha256)}</td>
                  <td className="actions">
                    {status.state === 'ready' ? (
                      <button type="button" className="btn btn-small" onClick={() => void engineAction('unload', modelRoles)} disabled={busy !== null}>
                        Unload
                      </button>
                    ) : (
                      <button
                        type="button"
                        className="btn btn-small"
                        onClick={() => void engineAction('load', modelRoles)}
                        disabled={busy !== null || status.state === 'loading' || !settings.models[modelRoles[0]!]}
                        title={settings.models[modelRoles[0]!] ? undefined : 'Choose and save a model file above first'}
                        data-testid={`load-${name}`}
                      >
                        {status.state === 'loading' || busy === `load:${modelRoles.join(',')}` ? 'Loading…' : 'Load'}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p className="muted">Reading the engine status…</p>
      )}
      {engineActionError ? <ErrorNotice error={engineActionError} title="The engine could not do that" compact /> : null}
    </div>
  );
}

/** 42.8 K, 1.5 B: parameter counts the way model cards write them. */
function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} K`;
  return String(n);
}

/** Why a file cannot serve in this field (the engine refuses it the same way on load), or null. */
function roleMismatch(role: ModelRole, i: ModelInspection): string | null {
  if (role === 'mmproj') return i.isVisionProjector ? null : 'Not a vision projector: loading it here will be refused.';
  if (i.isVisionProjector) return 'A vision projector: choose it as the vision projector.';
  if (role === 'reranker' && !i.isReranker) {
    return 'Not a reranker: it has no classification head (cls.weight / cls.output.weight); loading it here will be refused.';
  }
  if (role !== 'reranker' && i.isReranker) return 'A reranker (cross-encoder): choose it as the reranker.';
  return null;
}

/** Reads a GGUF's header through `engine.inspect` (no native load) and shows what it is and any problem. */
function Inspection({ path, role }: { path: string; role: ModelRole }) {
  const [result, setResult] = useState<{ path: string; inspection: ModelInspection | null; error: unknown } | null>(null);
  useEffect(() => {
    if (!path) return;
    let current = true;
    const handle = setTimeout(() => {
      window.api.engine.inspect({ path }).then(
        (inspection) => current && setResult({ path, inspection, error: null }),
        (error: unknown) => current && setResult({ path, inspection: null, error }),
      );
    }, 300);
    return () => {
      current = false;
      clearTimeout(handle);
    };
  }, [path]);
  if (!path || !result || result.path !== path) return null;
  if (result.error) return <ErrorNotice error={result.error} compact />;
  if (!result.inspection) return null;
  const i = result.inspection;
  const mismatch = roleMismatch(role, i);
  return (
    <div className={`inspection${i.problems.length || mismatch ? ' inspection-bad' : ''}`} data-testid="model-inspection">
      <span className="badge">{i.architecture}</span>
      {i.name ? <span>{i.name}</span> : null}
      <span>{formatBytes(i.sizeBytes)}</span>
      {i.parameterCount ? <span>{formatCount(i.parameterCount)} params</span> : null}
      {i.quantization ? <span className="badge">{i.quantization}</span> : null}
      {i.contextLength ? <span>ctx {i.contextLength}</span> : null}
      {i.embeddingLength ? <span>dim {i.embeddingLength}</span> : null}
      <span>
        {i.isVisionProjector
          ? `vision projector (${i.projectorType ?? '?'})`
          : i.isReranker
            ? 'reranker (classification head)'
            : i.hasChatTemplate
              ? 'chat template'
              : 'no chat template'}
      </span>
      {i.sha256 ? <span className="mono muted">sha256 {shortHash(i.sha256)}</span> : null}
      {i.problems.length > 0 || mismatch ? (
        <ul className="problems">
          {mismatch ? (
            <li data-testid="model-role-mismatch">
              <Icon name="warning" size={12} /> {mismatch}
            </li>
          ) : null}
          {i.problems.map((p) => (
            <li key={p}>
              <Icon name="warning" size={12} /> {p}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
