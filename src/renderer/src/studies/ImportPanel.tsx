import { useRef, useState } from 'react';
import type { ImportProgressEvent, ImportSummary } from '../../../shared/contract';
import { ErrorNotice } from '../components/ErrorNotice';
import { Icon } from '../components/Icon';
import { PathField } from '../components/PathField';
import { ProgressBar } from '../components/ProgressBar';
import { useApiEvent } from '../lib/hooks';
import { runTracker } from '../lib/runTracker';
import { baseName, splitPaths } from '../lib/format';

export interface ImportState {
  runId: string | null;
  running: boolean;
  progress: ImportProgressEvent | null;
  failures: { file: string; code: string; message: string }[];
  summary: ImportSummary | null;
  error: unknown;
}

const initial: ImportState = { runId: null, running: false, progress: null, failures: [], summary: null, error: null };

/** Owns one import at a time: start, progress with per-file failures, cancel, summary. */
export function useImport(onDone: (summary: ImportSummary | null) => void) {
  const [state, setState] = useState<ImportState>(initial);
  const summaryRef = useRef<ImportSummary | null>(null);

  // Progress may arrive before the reply that carries the run id: a running import adopts the first run it hears of.
  const ours = (s: ImportState, runId: string): boolean => s.runId === runId || (s.running && s.runId === null);

  useApiEvent(window.api.studies.onImportProgress, (event) => {
    setState((s) =>
      !ours(s, event.runId)
        ? s
        : {
            ...s,
            runId: event.runId,
            progress: event,
            failures: event.error ? [...s.failures, { file: event.file, ...event.error }] : s.failures,
          },
    );
  });
  useApiEvent(window.api.studies.onImportDone, ({ runId, summary }) => {
    if (ours(state, runId)) summaryRef.current = summary;
    setState((s) => (!ours(s, runId) ? s : { ...s, runId, summary, failures: summary.failed }));
  });

  const start = async (paths: string[]): Promise<void> => {
    if (paths.length === 0) return;
    setState({ ...initial, running: true });
    summaryRef.current = null;
    let runId: string;
    try {
      runId = (await window.api.studies.import({ paths })).runId;
    } catch (e) {
      setState({ ...initial, error: e });
      return;
    }
    setState((s) => ({ ...s, runId }));
    const outcome = await runTracker().wait(runId);
    setState((s) => {
      if (outcome.status === 'failed') return { ...s, running: false, error: outcome.error };
      if (outcome.status === 'cancelled') {
        return { ...s, running: false, error: { code: 'CANCELLED', message: 'Import stopped; files already imported stay in the list.' } };
      }
      return { ...s, running: false };
    });
    onDone(summaryRef.current);
  };
  const cancel = (): void => {
    if (state.runId) void window.api.runs.cancel({ runId: state.runId });
  };
  const clear = (): void => setState(initial);
  return { state, start, cancel, clear };
}

export function ImportPanel({
  importer,
  paths,
  setPaths,
}: {
  importer: ReturnType<typeof useImport>;
  paths: string;
  setPaths: (value: string) => void;
}) {
  const { state, start, cancel, clear } = importer;
  const [showAllFailures, setShowAllFailures] = useState(false);
  const progress = state.progress;
  const failures = showAllFailures ? state.failures : state.failures.slice(0, 8);
  const submit = (): void => void start(splitPaths(paths));
  return (
    <div className="import-panel" data-testid="import-panel">
      <div className="import-row">
        <PathField
          label="Files or folders to import (DICOM, DICOMDIR, PNG/JPEG) — one per line, or drop them here"
          value={paths}
          onChange={setPaths}
          placeholder="/mnt/pacs-export/CT_2024_0412   or   \\\\share\\studies\\case-17"
          multiline
          testId="import-path"
          onSubmit={submit}
          disabled={state.running}
        />
        <div className="import-buttons">
          <BrowseButton kind="folder" onPick={(p) => setPaths(p.join('\n'))} disabled={state.running} />
          <BrowseButton kind="files" onPick={(p) => setPaths(p.join('\n'))} disabled={state.running} />
          {state.running ? (
            <button type="button" className="btn btn-danger" onClick={cancel} data-testid="import-cancel">
              <Icon name="stop" /> Cancel
            </button>
          ) : (
            <button
              type="button"
              className="btn btn-primary"
              onClick={submit}
              disabled={splitPaths(paths).length === 0}
              data-testid="import-start"
              title="Import (Ctrl+Enter)"
            >
              <Icon name="import" /> Import
            </button>
          )}
        </div>
      </div>
      {state.running || progress ? (
        <ProgressBar
          done={progress?.filesDone ?? 0}
          total={progress?.filesTotal ?? null}
          testId="import-progress"
          label={
            progress
              ? `${progress.filesDone} / ${progress.filesTotal} files · ${progress.imported} imported · ${progress.skipped} already present${state.running ? ` · ${baseName(progress.file)}` : ''}`
              : 'Scanning…'
          }
        />
      ) : null}
      {state.summary ? (
        <div className="import-summary" data-testid="import-summary">
          <Icon name="info" /> {state.summary.filesSeen} files seen · {state.summary.imported} imported ·{' '}
          {state.summary.alreadyPresent} already present · {state.summary.failed.length} not imported ·{' '}
          {state.summary.studies.length} {state.summary.studies.length === 1 ? 'study' : 'studies'}
          <button type="button" className="btn btn-link" onClick={clear}>
            Dismiss
          </button>
        </div>
      ) : null}
      {state.error ? <ErrorNotice error={state.error} title="Import" compact /> : null}
      {state.failures.length > 0 ? (
        <div className="import-failures" data-testid="import-failures">
          <h4>
            <Icon name="warning" /> {state.failures.length} {state.failures.length === 1 ? 'file was' : 'files were'} not
            imported
          </h4>
          <table className="table table-compact">
            <tbody>
              {failures.map((f, i) => (
                <tr key={`${f.file}-${i}`}>
                  <td className="mono" title={f.file}>
                    {baseName(f.file)}
                  </td>
                  <td>
                    <code>{f.code}</code>
                  </td>
                  <td>{f.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {state.failures.length > failures.length ? (
            <button type="button" className="btn btn-link" onClick={() => setShowAllFailures(true)}>
              Show all {state.failures.length}
            </button>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}

function BrowseButton({ kind, onPick, disabled }: { kind: 'files' | 'folder'; onPick: (paths: string[]) => void; disabled: boolean }) {
  const [note, setNote] = useState<string | null>(null);
  return (
    <button
      type="button"
      className="btn"
      disabled={disabled}
      title={note ?? undefined}
      onClick={async () => {
        const picked = await window.api.app
          .openDialog({ title: kind === 'folder' ? 'Import a folder' : 'Import files', kind, multiple: true })
          .catch(() => []);
        if (picked.length > 0) onPick(picked);
        else setNote('No dialog here: type or paste the path');
      }}
    >
      <Icon name={kind === 'folder' ? 'folder' : 'file'} /> {kind === 'folder' ? 'Folder…' : 'Files…'}
    </button>
  );
}
