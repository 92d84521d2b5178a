import { useState } from 'react';
import type { EmbedProgressEvent, IngestProgressEvent } from '../../../shared/contract';
import { EmptyState } from '../components/EmptyState';
import { ErrorNotice } from '../components/ErrorNotice';
import { Icon } from '../components/Icon';
import { PathField } from '../components/PathField';
import { ProgressBar } from '../components/ProgressBar';
import { baseName, formatTimestamp, shortHash, splitPaths } from '../lib/format';
import { useApiEvent, useAsync } from '../lib/hooks';
import { runTracker } from '../lib/runTracker';

interface IngestState {
  kind: 'sources' | 'cases';
  runId: string | null;
  running: boolean;
  progress: IngestProgressEvent | null;
  failures: { file: string; code: string; message: string }[];
  outcome: string | null;
  error: unknown;
}

export function KnowledgeSection() {
  const stats = useAsync(() => window.api.knowledge.stats(), []);
  const [paths, setPaths] = useState('');
  const [casesFolder, setCasesFolder] = useState('');
  const [ingest, setIngest] = useState<IngestState | null>(null);
  const [removeError, setRemoveError] = useState<unknown>(null);
  const [embedding, setEmbedding] = useState<{ runId: string | null; progress: EmbedProgressEvent | null; error: unknown; running: boolean } | null>(null);

  useApiEvent(window.api.knowledge.onEmbedProgress, (event) => {
    setEmbedding((s) => (s && (s.runId === event.runId || (s.running && s.runId === null)) ? { ...s, runId: event.runId, progress: event } : s));
  });

  const embed = async (): Promise<void> => {
    setEmbedding({ runId: null, progress: null, error: null, running: true });
    let runId: string;
    try {
      runId = (await window.api.knowledge.embed()).runId;
    } catch (e) {
      setEmbedding({ runId: null, progress: null, error: e, running: false });
      return;
    }
    setEmbedding((s) => (s ? { ...s, runId } : s));
    const outcome = await runTracker().wait(runId);
    setEmbedding((s) => (s ? { ...s, running: false, error: outcome.status === 'failed' ? outcome.error : null } : s));
    stats.reload();
  };

  useApiEvent(window.api.knowledge.onIngestProgress, (event) => {
    setIngest((s) => {
      if (!s || !(s.runId === event.runId || (s.running && s.runId === null))) return s;
      return {
        ...s,
        runId: event.runId,
        progress: event,
        failures: event.error ? [...s.failures, { file: event.file, ...event.error }] : s.failures,
      };
    });
  });

  const start = async (kind: 'sources' | 'cases'): Promise<void> => {
    const fresh: IngestState = { kind, runId: null, running: true, progress: null, failures: [], outcome: null, error: null };
    setIngest(fresh);
    let runId: string;
    try {
      runId = (kind === 'sources' ? await window.api.knowledge.ingest({ paths: splitPaths(paths) }) : await window.api.knowledge.casesIngest({ folder: casesFolder.trim() })).runId;
    } catch (e) {
      setIngest({ ...fresh, running: false, error: e });
      return;
    }
    setIngest((s) => (s ? { ...s, runId } : s));
    const outcome = await runTracker().wait(runId);
    setIngest((s) =>
      s && s.runId === runId
        ? {
            ...s,
            running: false,
            outcome: outcome.status === 'completed' ? 'Done.' : outcome.status === 'cancelled' ? 'Stopped: what was committed stays; run it again to resume.' : null,
            error: outcome.status === 'failed' ? outcome.error : null,
          }
        : s,
    );
    stats.reload();
  };

  const cancel = (): void => {
    const runId = ingest?.runId;
    if (runId) void window.api.runs.cancel({ runId });
  };

  const remove = async (sourceId: number): Promise<void> => {
    try {
      await window.api.knowledge.removeSource({ sourceId });
      setRemoveError(null);
      stats.reload();
    } catch (e) {
      setRemoveError(e);
    }
  };

  const s = stats.data;
  const running = ingest?.running ?? false;
  return (
    <div className="settings-section" data-testid="settings-knowledge">
      <h2>Knowledge base</h2>
      {stats.error && !s ? (
        <ErrorNotice error={stats.error} title="The knowledge base is not available" />
      ) : s ? (
        <>
          <dl className="facts" data-testid="knowledge-stats">
            <dt>Passages</dt>
            <dd>{s.passages.toLocaleString()}</dd>
            <dt>Vectors</dt>
            <dd>
              {s.vectors.toLocaleString()}
              {s.embeddingModel ? (
                <span className="muted">
                  {' '}
                  · {s.embeddingModel.name} · {s.embeddingModel.dims}-d · {shortHash(s.embeddingModel.sha256)}
                </span>
              ) : (
                <span className="text-warn"> · no embedding model: retrieval is lexical (bm25) only</span>
              )}
            </dd>
            {s.embeddingModel && s.vectors < s.passages ? (
              <>
                <dt />
                <dd>
                  <div className="progress-row">
                    {embedding?.running ? (
                      <>
                        <ProgressBar
                          done={embedding.progress?.done ?? 0}
                          total={embedding.progress?.total ?? null}
                          label={embedding.progress ? `${embedding.progress.done.toLocaleString()} / ${embedding.progress.total.toLocaleString()} passages embedded` : 'Starting…'}
                          testId="embed-progress"
                        />
                        <button type="button" className="btn btn-danger" onClick={() => embedding.runId && void window.api.runs.cancel({ runId: embedding.runId })}>
                          <Icon name="stop" /> Cancel
                        </button>
                      </>
                    ) : (
                      <>
                        <span className="text-warn">{(s.passages - s.vectors).toLocaleString()} passages have no vector yet (they are found by keyword only).</span>
                        <button type="button" className="btn btn-small" onClick={() => void embed()} data-testid="embed-start">
                          Embed them now
                        </button>
                      </>
                    )}
                  </div>
                  {embedding?.error ? <ErrorNotice error={embedding.error} compact /> : null}
                </dd>
              </>
            ) : null}
            <dt>Image cases</dt>
            <dd>
              {s.cases.toLocaleString()} cases · {s.caseImages.toLocaleString()} images{' '}
              {s.cases === 0 ? <span className="text-warn">· CDIR has no similar cases to offer</span> : null}
            </dd>
          </dl>
          {s.sources.length === 0 ? (
            <EmptyState icon="book" title="The knowledge base is empty" testId="knowledge-empty">
              Add text sources below (Markdown, text, JSONL, MedQuAD XML, OpenStax CNXML, PDF). Until then the model's
              queries find nothing.
            </EmptyState>
          ) : (
            <table className="table table-compact" data-testid="knowledge-sources">
              <thead>
                <tr>
                  <th>Source</th>
                  <th>Format</th>
                  <th className="num">Passages</th>
                  <th>License</th>
                  <th>Added</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {s.sources.map((source) => (
                  <tr key={source.id}>
                    <td title={`${source.file}${source.attribution ? `\n${source.attribution}` : ''}`}>
                      {source.title}
                      {source.origin === 'bundled' ? <span className="badge">bundled</span> : null}
                      <div className="muted small mono">{baseName(source.file)}</div>
                    </td>
                    <td>{source.format}</td>
                    <td className="num">{source.passages.toLocaleString()}</td>
                    <td className="small">{source.license ?? <span className="muted">not stated</span>}</td>
                    <td className="small mono">{formatTimestamp(source.ingestedAt)}</td>
                    <td className="actions">
                      <button type="button" className="btn btn-small" onClick={() => void remove(source.id)} disabled={running} title="Remove this source and its passages">
                        <Icon name="trash" />
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      ) : (
        <p className="muted">Reading the knowledge base…</p>
      )}
      {removeError ? <ErrorNotice error={removeError} compact /> : null}

      <h3>Add sources</h3>
      <PathField
        label="Files or folders (one per line)"
        value={paths}
        onChange={setPaths}
        multiline
        dialog={{ title: 'Add knowledge sources', kind: 'files', multiple: true }}
        placeholder="/data/textbooks/anatomy.pdf"
        testId="ingest-paths"
        disabled={running}
      />
      <div className="form-actions">
        <button type="button" className="btn btn-primary" onClick={() => void start('sources')} disabled={running || splitPaths(paths).length === 0} data-testid="ingest-start">
          <Icon name="import" /> Ingest
        </button>
      </div>

      <h3>Image-case corpus (for CDIR)</h3>
      <PathField
        label="Folder of cases (images with their report or consultation text)"
        value={casesFolder}
        onChange={setCasesFolder}
        dialog={{ title: 'Image-case folder', kind: 'folder' }}
        placeholder="/data/image-cases/medpix"
        testId="cases-folder"
        disabled={running}
      />
      <div className="form-actions">
        <button type="button" className="btn" onClick={() => void start('cases')} disabled={running || !casesFolder.trim()} data-testid="cases-start">
          <Icon name="import" /> Ingest cases
        </button>
      </div>

      {ingest ? (
        <div className="ingest-status" data-testid="ingest-status">
          {ingest.running || ingest.progress ? (
            <div className="progress-row">
              <ProgressBar
                done={ingest.progress?.filesDone ?? 0}
                total={ingest.progress?.filesTotal ?? null}
                label={
                  ingest.progress
                    ? `${ingest.progress.filesDone} / ${ingest.progress.filesTotal} files · ${ingest.progress.passagesAdded.toLocaleString()} ${ingest.kind === 'cases' ? 'items' : 'passages'} added · ${baseName(ingest.progress.file)}`
                    : 'Starting…'
                }
              />
              {ingest.running ? (
                <button type="button" className="btn btn-danger" onClick={cancel} data-testid="ingest-cancel">
                  <Icon name="stop" /> Cancel
                </button>
              ) : null}
            </div>
          ) : null}
          {ingest.outcome ? <p className="text-ok">{ingest.outcome}</p> : null}
          {ingest.error ? <ErrorNotice error={ingest.error} title="Ingestion" compact /> : null}
          {ingest.failures.length > 0 ? (
            <table className="table table-compact">
              <tbody>
                {ingest.failures.map((f, i) => (
                  <tr key={`${f.file}-${i}`}>
                    <td className="mono">{baseName(f.file)}</td>
                    <td>
                      <code>{f.code}</code>
                    </td>
                    <td>{f.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
