import { useEffect, useMemo, useRef, useState, type DragEvent } from 'react';
import type { StudyQuery, StudySummary } from '../../../shared/contract';
import { useApp } from '../AppContext';
import { EmptyState } from '../components/EmptyState';
import { ErrorNotice } from '../components/ErrorNotice';
import { Icon } from '../components/Icon';
import { isNotAvailable } from '../lib/apiErrors';
import { formatPersonName, formatStudyDate } from '../lib/format';
import { isTypingTarget, useApiEvent, useAsync } from '../lib/hooks';
import { ImportPanel, useImport } from './ImportPanel';
import { defaultStudySort, nextSort, sortStudies, type StudyColumn, type StudySort } from './studySort';

const columns: { column: StudyColumn; label: string; numeric?: boolean }[] = [
  { column: 'patient', label: 'Patient' },
  { column: 'patientId', label: 'Patient ID' },
  { column: 'date', label: 'Study date' },
  { column: 'modality', label: 'Modality' },
  { column: 'description', label: 'Description' },
  { column: 'series', label: 'Series', numeric: true },
  { column: 'images', label: 'Images', numeric: true },
];

const modalities = ['', 'CT', 'MR', 'CR', 'DX', 'US', 'XA', 'MG', 'PT', 'NM', 'SR', 'OT'];

/** DICOM DA for the service's date filters. */
const toDicomDate = (isoDate: string): string | undefined => (isoDate ? isoDate.replaceAll('-', '') : undefined);

export function StudiesScreen({ active }: { active: boolean }) {
  const { openStudy, study: openStudyNow } = useApp();
  const [text, setText] = useState('');
  const [modality, setModality] = useState('');
  const [dateFrom, setDateFrom] = useState('');
  const [dateTo, setDateTo] = useState('');
  const [query, setQuery] = useState<StudyQuery>({});
  const [sort, setSort] = useState<StudySort>(defaultStudySort);
  const [selected, setSelected] = useState<string | null>(null);
  const [showImport, setShowImport] = useState(false);
  const [importPaths, setImportPaths] = useState('');
  const [dropNote, setDropNote] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const [confirmRemove, setConfirmRemove] = useState<StudySummary | null>(null);
  const [removeError, setRemoveError] = useState<unknown>(null);
  const filterRef = useRef<HTMLInputElement>(null);
  const tableRef = useRef<HTMLTableSectionElement>(null);

  // Debounced, so typing in the filter does not query per keystroke.
  useEffect(() => {
    const handle = setTimeout(
      () =>
        setQuery({
          text: text.trim() || undefined,
          modality: modality || undefined,
          dateFrom: toDicomDate(dateFrom),
          dateTo: toDicomDate(dateTo),
        }),
      180,
    );
    return () => clearTimeout(handle);
  }, [text, modality, dateFrom, dateTo]);

  const list = useAsync(() => window.api.studies.list(query), [query]);
  useApiEvent(window.api.studies.onChanged, () => list.reload());

  const importer = useImport((summary) => {
    list.reload();
    if (summary && summary.studies.length > 0) setSelected(summary.studies[0]!);
  });

  const studies = useMemo(() => sortStudies(list.data ?? [], sort), [list.data, sort]);
  const selectedIndex = studies.findIndex((s) => s.studyInstanceUid === selected);
  const empty = list.data !== null && list.data.length === 0;
  const filtered = Boolean(query.text || query.modality || query.dateFrom || query.dateTo);
  const importVisible = showImport || (empty && !filtered) || importer.state.running;

  useEffect(() => {
    if (!active) return;
    const onKey = (e: KeyboardEvent): void => {
      if (e.ctrlKey && e.key.toLowerCase() === 'f') {
        e.preventDefault();
        filterRef.current?.focus();
        return;
      }
      if (isTypingTarget(e.target) || e.altKey || e.ctrlKey || e.metaKey) return;
      if (e.key === '/') {
        e.preventDefault();
        filterRef.current?.focus();
      } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        if (studies.length === 0) return;
        const next =
          selectedIndex < 0 ? 0 : Math.max(0, Math.min(studies.length - 1, selectedIndex + (e.key === 'ArrowDown' ? 1 : -1)));
        setSelected(studies[next]!.studyInstanceUid);
        tableRef.current?.rows[next]?.scrollIntoView({ block: 'nearest' });
      } else if (e.key === 'Enter' && selectedIndex >= 0) {
        e.preventDefault();
        openStudy(studies[selectedIndex]!);
      } else if (e.key === 'Delete' && selectedIndex >= 0) {
        e.preventDefault();
        setConfirmRemove(studies[selectedIndex]!);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [active, studies, selectedIndex, openStudy]);

  const onDrop = (e: DragEvent): void => {
    e.preventDefault();
    setDragging(false);
    const paths = Array.from(e.dataTransfer.files)
      .map((file) => window.platform.pathForFile(file))
      .filter((p): p is string => Boolean(p));
    setShowImport(true);
    if (paths.length === 0) {
      setDropNote('This window cannot see the paths of dropped files. Type or paste the folder path below instead.');
      return;
    }
    setDropNote(null);
    setImportPaths(paths.join('\n'));
    void importer.start(paths);
  };

  const remove = async (study: StudySummary): Promise<void> => {
    setConfirmRemove(null);
    try {
      await window.api.studies.remove({ studyInstanceUid: study.studyInstanceUid });
      setRemoveError(null);
      list.reload();
    } catch (e) {
      setRemoveError(e);
    }
  };

  return (
    <div
      className={`studies-screen${dragging ? ' dropping' : ''}`}
      onDragOver={(e) => {
        if (e.dataTransfer.types.includes('Files')) {
          e.preventDefault();
          setDragging(true);
        }
      }}
      onDragLeave={(e) => e.currentTarget === e.target && setDragging(false)}
      onDrop={onDrop}
      data-testid="studies-screen"
    >
      <div className="toolbar">
        <div className="search-box">
          <Icon name="search" />
          <input
            ref={filterRef}
            type="search"
            placeholder="Filter by patient, ID, accession, description   ( / )"
            value={text}
            onChange={(e) => setText(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Escape') {
                setText('');
                e.currentTarget.blur();
              } else if (e.key === 'ArrowDown' || e.key === 'Enter') {
                e.currentTarget.blur();
                if (e.key === 'Enter' && studies.length > 0) setSelected(studies[0]!.studyInstanceUid);
              }
            }}
            data-testid="study-filter"
            aria-label="Filter studies"
          />
        </div>
        <label className="inline-field">
          Modality
          <select value={modality} onChange={(e) => setModality(e.target.value)} data-testid="modality-filter">
            {modalities.map((m) => (
              <option key={m} value={m}>
                {m || 'All'}
              </option>
            ))}
          </select>
        </label>
        <label className="inline-field">
          From
          <input type="date" value={dateFrom} onChange={(e) => setDateFrom(e.target.value)} />
        </label>
        <label className="inline-field">
          To
          <input type="date" value={dateTo} onChange={(e) => setDateTo(e.target.value)} />
        </label>
        <span className="toolbar-spacer" />
        <span className="muted">
          {list.data ? `${list.data.length} ${list.data.length === 1 ? 'study' : 'studies'}` : ''}
        </span>
        <button type="button" className="btn" onClick={list.reload} title="Refresh">
          <Icon name="refresh" />
        </button>
        <button
          type="button"
          className={`btn${importVisible ? ' btn-active' : ''}`}
          onClick={() => setShowImport((v) => !v)}
          data-testid="import-toggle"
        >
          <Icon name="import" /> Import
        </button>
      </div>

      {importVisible ? (
        <>
          {dropNote ? (
            <div className="notice notice-unavailable" role="status">
              <Icon name="info" />
              <span className="notice-message">{dropNote}</span>
            </div>
          ) : null}
          <ImportPanel importer={importer} paths={importPaths} setPaths={setImportPaths} />
        </>
      ) : null}

      {removeError ? <ErrorNotice error={removeError} title="The study was not removed" compact /> : null}

      <div className="table-wrap">
        {list.error && !list.data ? (
          <ErrorNotice
            error={list.error}
            title={isNotAvailable(list.error) ? 'The study index is not available yet' : 'The study list could not be loaded'}
            action={
              <button type="button" className="btn" onClick={list.reload}>
                Retry
              </button>
            }
          />
        ) : empty ? (
          filtered ? (
            <EmptyState icon="search" title="No study matches the filter" testId="studies-empty">
              Clear the filter (Esc in the filter box) or widen the date range.
            </EmptyState>
          ) : (
            <EmptyState icon="studies" title="No studies yet" testId="studies-empty">
              Import a folder, a CD (DICOMDIR), a PACS export, or PNG/JPEG images: type or paste its path above, use
              Folder… / Files…, or drop it on this window.
            </EmptyState>
          )
        ) : (
          <table className="table study-table" data-testid="study-table">
            <thead>
              <tr>
                {columns.map((c) => (
                  <th
                    key={c.column}
                    className={c.numeric ? 'num' : undefined}
                    aria-sort={sort.column === c.column ? (sort.direction === 'asc' ? 'ascending' : 'descending') : 'none'}
                  >
                    <button type="button" className="th-button" onClick={() => setSort(nextSort(sort, c.column))}>
                      {c.label}
                      {sort.column === c.column ? <span className="sort-mark">{sort.direction === 'asc' ? '▲' : '▼'}</span> : null}
                    </button>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody ref={tableRef}>
              {studies.map((s) => (
                <tr
                  key={s.studyInstanceUid}
                  className={`${s.studyInstanceUid === selected ? 'selected' : ''}${s.studyInstanceUid === openStudyNow?.studyInstanceUid ? ' open' : ''}`}
                  onClick={() => setSelected(s.studyInstanceUid)}
                  onDoubleClick={() => openStudy(s)}
                  data-testid="study-row"
                  aria-selected={s.studyInstanceUid === selected}
                >
                  <td>{formatPersonName(s.patientName)}</td>
                  <td className="mono">{s.patientId || '—'}</td>
                  <td className="mono">{formatStudyDate(s.studyDate)}</td>
                  <td>
                    {s.modalities.map((m) => (
                      <span key={m} className="modality">
                        {m}
                      </span>
                    ))}
                    {s.kind === 'image' ? <span className="modality modality-image">IMG</span> : null}
                  </td>
                  <td className="desc" title={s.description}>
                    {s.description || <span className="muted">—</span>}
                  </td>
                  <td className="num">{s.seriesCount}</td>
                  <td className="num">{s.instanceCount}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      {selectedIndex >= 0 ? (
        <div className="statusline">
          <span>
            <strong>{formatPersonName(studies[selectedIndex]!.patientName)}</strong> · {studies[selectedIndex]!.description || 'study'}
          </span>
          <span className="toolbar-spacer" />
          <button type="button" className="btn btn-primary" onClick={() => openStudy(studies[selectedIndex]!)} data-testid="open-study">
            Open <kbd className="kbd">Enter</kbd>
          </button>
          <button type="button" className="btn" onClick={() => setConfirmRemove(studies[selectedIndex]!)} title="Remove (Del)">
            <Icon name="trash" />
          </button>
        </div>
      ) : null}
      {confirmRemove ? (
        <div className="confirm-bar" role="alertdialog" aria-label="Confirm removal">
          <Icon name="warning" />
          <span>
            Remove <strong>{formatPersonName(confirmRemove.patientName)}</strong> ({confirmRemove.description || confirmRemove.studyInstanceUid})
            from the index? The files on disk are not touched; reasoning history stays.
          </span>
          <button type="button" className="btn btn-danger" onClick={() => void remove(confirmRemove)} autoFocus>
            Remove
          </button>
          <button type="button" className="btn" onClick={() => setConfirmRemove(null)}>
            Keep
          </button>
        </div>
      ) : null}
    </div>
  );
}
