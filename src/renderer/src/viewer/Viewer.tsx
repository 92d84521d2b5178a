import { useCallback, useEffect, useEffectEvent, useLayoutEffect, useMemo, useRef, useState, type PointerEvent as ReactPointerEvent } from 'react';
import type { InstanceSummary, SeriesSummary, StudySummary } from '../../../shared/contract';
import { EmptyState } from '../components/EmptyState';
import { ErrorNotice } from '../components/ErrorNotice';
import { Icon, type IconName } from '../components/Icon';
import { formatPersonName, formatStudyDate } from '../lib/format';
import { isTypingTarget, useAsync } from '../lib/hooks';
import { FrameCache, frameKey, type CachedFrame } from './frameCache';
import { SeriesStrip } from './SeriesStrip';
import { canvasToImage, initialView, zoomAt, type ViewState } from './viewport';
import { ViewportRenderer } from './ViewportRenderer';
import { dragSensitivity, dragWindow, formatWindow, windowPresets, type WindowLevel } from './windowing';

/** What the reasoning panel sends to the model: exactly the image on screen, with its window. */
export interface ViewerImage {
  sopInstanceUid: string;
  frame: number;
  window: WindowLevel | null;
  label: string;
}

interface Slice {
  instance: InstanceSummary;
  frame: number;
}

type Tool = 'window' | 'pan' | 'zoom';

const tools: { tool: Tool; icon: IconName; label: string; key: string }[] = [
  { tool: 'window', icon: 'contrast', label: 'Window/level', key: 'W' },
  { tool: 'pan', icon: 'pan', label: 'Pan', key: 'P' },
  { tool: 'zoom', icon: 'zoom', label: 'Zoom', key: 'Z' },
];

const prefetchRadius = 4;

export function Viewer({
  study,
  active,
  onImageChange,
}: {
  study: StudySummary;
  active: boolean;
  onImageChange: (image: ViewerImage | null) => void;
}) {
  const seriesList = useAsync(() => window.api.studies.series({ studyInstanceUid: study.studyInstanceUid }), [study.studyInstanceUid]);
  const series = useMemo(() => seriesList.data ?? [], [seriesList.data]);
  const [seriesIndex, setSeriesIndex] = useState(0);
  // Open on the first series with images (reports have none), once the list arrives.
  const [seriesOf, setSeriesOf] = useState(series);
  if (seriesOf !== series) {
    setSeriesOf(series);
    const first = series.findIndex((s) => !s.isReport && s.frameCount > 0);
    setSeriesIndex(first >= 0 ? first : 0);
  }
  const currentSeries: SeriesSummary | undefined = series[seriesIndex];

  if (seriesList.error && !seriesList.data) {
    return (
      <div className="viewer viewer-message">
        <ErrorNotice error={seriesList.error} title="The series of this study could not be listed" />
      </div>
    );
  }
  return (
    <div className="viewer" data-testid="viewer">
      <SeriesStrip series={series} current={seriesIndex} onSelect={setSeriesIndex} />
      {currentSeries ? (
        <SeriesViewport
          key={currentSeries.seriesInstanceUid}
          study={study}
          series={currentSeries}
          active={active}
          onImageChange={onImageChange}
          onSeriesStep={(step) => setSeriesIndex((i) => Math.max(0, Math.min(series.length - 1, i + step)))}
        />
      ) : (
        <div className="viewport viewer-message">
          {seriesList.loading ? <span className="muted">Loading series…</span> : <EmptyState icon="viewer" title="This study has no series" />}
        </div>
      )}
    </div>
  );
}

function SeriesViewport({
  study,
  series,
  active,
  onImageChange,
  onSeriesStep,
}: {
  study: StudySummary;
  series: SeriesSummary;
  active: boolean;
  onImageChange: (image: ViewerImage | null) => void;
  onSeriesStep: (step: number) => void;
}) {
  const instances = useAsync(() => window.api.studies.instances({ seriesInstanceUid: series.seriesInstanceUid }), [series.seriesInstanceUid]);
  const slices = useMemo<Slice[]>(
    () =>
      (instances.data ?? []).flatMap((instance) =>
        Array.from({ length: Math.max(1, instance.frames) }, (_, frame) => ({ instance, frame })),
      ),
    [instances.data],
  );
  const cache = useMemo(
    () => new FrameCache((sopInstanceUid, frame) => window.api.studies.frame({ sopInstanceUid, frame })),
    [],
  );

  const [index, setIndex] = useState(0);
  const [loaded, setLoaded] = useState<CachedFrame | null>(null);
  const [failure, setFailure] = useState<{ key: string; error: unknown } | null>(null);
  const [userWindow, setUserWindow] = useState<WindowLevel | null>(null);
  const [presetName, setPresetName] = useState<string | null>(null);
  const [invert, setInvert] = useState(false);
  const [view, setView] = useState<ViewState>(initialView);
  const [tool, setTool] = useState<Tool>('window');
  const [probe, setProbe] = useState<{ column: number; row: number; value: string } | null>(null);

  const canvasRef = useRef<HTMLCanvasElement>(null);
  const containerRef = useRef<HTMLDivElement>(null);
  const rendererRef = useRef<ViewportRenderer | null>(null);

  const slice = slices[index];
  const sliceKey = slice ? frameKey(slice.instance.sopInstanceUid, slice.frame) : null;
  const undisplayable = slice?.instance.undisplayableReason ?? null;
  // A cached frame shows at once; otherwise the previous one stays until the wanted one arrives (smooth scrolling).
  const cachedNow = slice && !undisplayable ? cache.lookup(slice.instance.sopInstanceUid, slice.frame) : undefined;
  const current = undisplayable ? null : (cachedNow ?? loaded);
  const frameError = failure && failure.key === sliceKey ? failure.error : null;
  const frameWindow = current?.pixels.defaultWindow ?? null;
  const effectiveWindow = userWindow ?? frameWindow;
  const displayInvert = invert !== (current?.pixels.invert ?? false);

  // Start in the middle of a volume, like the thumbnail; single images start at 0.
  const [slicesOf, setSlicesOf] = useState(slices);
  if (slicesOf !== slices) {
    setSlicesOf(slices);
    setIndex(slices.length > 2 ? Math.floor((slices.length - 1) / 2) : 0);
  }

  // Renderer lifetime and size.
  useLayoutEffect(() => {
    const canvas = canvasRef.current!;
    const container = containerRef.current!;
    const renderer = new ViewportRenderer(canvas);
    rendererRef.current = renderer;
    const observer = new ResizeObserver(([entry]) => {
      if (entry) renderer.resize(entry.contentRect.width, entry.contentRect.height);
    });
    observer.observe(container);
    renderer.resize(container.clientWidth, container.clientHeight);
    return () => {
      observer.disconnect();
      renderer.dispose();
      rendererRef.current = null;
    };
  }, []);

  // Load the wanted slice; keep showing the previous one until it arrives, then prefetch the neighbours.
  useEffect(() => {
    if (!slice || slice.instance.undisplayableReason) return;
    const { sopInstanceUid } = slice.instance;
    const key = frameKey(sopInstanceUid, slice.frame);
    let wanted = true;
    const prefetch = (): void => {
      const order: number[] = [];
      for (let d = 1; d <= prefetchRadius; d++) order.push(index + d, index - d);
      for (const i of order) {
        const s = slices[i];
        if (!s || s.instance.undisplayableReason || cache.pendingCount >= 3) continue;
        if (!cache.peek(s.instance.sopInstanceUid, s.frame)) cache.get(s.instance.sopInstanceUid, s.frame).catch(() => undefined);
      }
    };
    cache.get(sopInstanceUid, slice.frame).then(
      (frame) => {
        if (!wanted) return;
        setLoaded(frame);
        prefetch();
      },
      (error: unknown) => wanted && setFailure({ key, error }),
    );
    return () => {
      wanted = false;
    };
  }, [slice, slices, index, cache]);

  useEffect(() => {
    const renderer = rendererRef.current;
    if (!renderer) return;
    renderer.setFrame(current);
    if (effectiveWindow) renderer.setWindow(effectiveWindow, displayInvert);
    renderer.setView(view);
  }, [current, effectiveWindow, displayInvert, view]);

  // Tell the reasoning panel which image (and window) the model would see.
  const reportImage = useEffectEvent(onImageChange);
  const shownSop = current?.pixels.sopInstanceUid ?? null;
  const shownFrame = current?.pixels.frame ?? null;
  useEffect(() => {
    if (shownSop === null || shownFrame === null) {
      reportImage(null);
      return;
    }
    const handle = setTimeout(() => {
      reportImage({
        sopInstanceUid: shownSop,
        frame: shownFrame,
        window: effectiveWindow,
        label: `${series.modality} #${series.seriesNumber ?? '?'} · image ${index + 1}/${slices.length}${effectiveWindow ? ` · ${formatWindow(effectiveWindow)}` : ''}`,
      });
    }, 120);
    return () => clearTimeout(handle);
  }, [shownSop, shownFrame, effectiveWindow, series.modality, series.seriesNumber, index, slices.length]);

  const step = useCallback((delta: number) => setIndex((i) => Math.max(0, Math.min(slices.length - 1, i + delta))), [slices.length]);
  const reset = useCallback(() => {
    setView(initialView);
    setUserWindow(null);
    setPresetName(null);
    setInvert(false);
  }, []);
  const applyPreset = useCallback((key: string) => {
    const preset = windowPresets.find((p) => p.key === key);
    if (!preset) return;
    setUserWindow({ center: preset.center, width: preset.width });
    setPresetName(preset.name);
  }, []);
  const zoomBy = useCallback((factor: number) => {
    const geometry = rendererRef.current?.geometry();
    if (!geometry) return;
    setView((v) => zoomAt(v, factor, geometry.canvasWidth / 2, geometry.canvasHeight / 2, geometry));
  }, []);

  useEffect(() => {
    if (!active) return;
    const onKey = (e: KeyboardEvent): void => {
      if (isTypingTarget(e.target) || e.altKey || e.ctrlKey || e.metaKey) return;
      const key = e.key;
      const handled = (() => {
        if (key === 'ArrowUp' || key === 'ArrowLeft') step(-1);
        else if (key === 'ArrowDown' || key === 'ArrowRight') step(1);
        else if (key === 'Home') setIndex(0);
        else if (key === 'End') setIndex(Math.max(0, slices.length - 1));
        else if (key === 'PageUp') onSeriesStep(-1);
        else if (key === 'PageDown') onSeriesStep(1);
        else if (windowPresets.some((p) => p.key === key)) applyPreset(key);
        else if (key === '0') {
          setUserWindow(null);
          setPresetName(null);
        } else if (key === 'i' || key === 'I') setInvert((v) => !v);
        else if (key === 'h' || key === 'H') setView((v) => ({ ...v, flipH: !v.flipH }));
        else if (key === 'v' || key === 'V') setView((v) => ({ ...v, flipV: !v.flipV }));
        else if (key === 'r' || key === 'R' || key === ' ') reset();
        else if (key === '+' || key === '=') zoomBy(1.25);
        else if (key === '-' || key === '_') zoomBy(0.8);
        else if (key === 'w' || key === 'W') setTool('window');
        else if (key === 'p' || key === 'P') setTool('pan');
        else if (key === 'z' || key === 'Z') setTool('zoom');
        else return false;
        return true;
      })();
      if (handled) e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [active, step, slices.length, onSeriesStep, applyPreset, reset, zoomBy]);

  // Pointer interaction: right = window/level, middle = pan, left = the active tool. Updates coalesce per frame.
  const drag = useRef<{
    mode: Tool;
    x: number;
    y: number;
    window: WindowLevel;
    view: ViewState;
    pending: { x: number; y: number } | null;
    raf: number | null;
  } | null>(null);

  const applyDrag = (): void => {
    const d = drag.current;
    if (!d || !d.pending) return;
    const dx = d.pending.x - d.x;
    const dy = d.pending.y - d.y;
    d.pending = null;
    if (d.mode === 'window' && current) {
      const next = dragWindow(d.window, dx, dy, dragSensitivity(current.pixels.minValue, current.pixels.maxValue));
      // Drawn in this frame; React catches up with the overlay text (and finds the renderer already there).
      rendererRef.current?.setWindow(next, displayInvert);
      rendererRef.current?.flush();
      setUserWindow(next);
      setPresetName(null);
    } else if (d.mode === 'pan') {
      setView({ ...d.view, panX: d.view.panX + dx, panY: d.view.panY + dy });
    } else if (d.mode === 'zoom') {
      const geometry = rendererRef.current?.geometry();
      if (geometry) setView(zoomAt(d.view, Math.exp(-dy / 200), d.x - bounds().left, d.y - bounds().top, geometry));
    }
  };
  const bounds = (): DOMRect => containerRef.current!.getBoundingClientRect();

  const onPointerDown = (e: ReactPointerEvent<HTMLDivElement>): void => {
    containerRef.current?.focus();
    if (isTypingTarget(document.activeElement)) (document.activeElement as HTMLElement).blur();
    const mode: Tool = e.button === 2 ? 'window' : e.button === 1 ? 'pan' : tool;
    if (!effectiveWindow) return;
    e.preventDefault();
    e.currentTarget.setPointerCapture(e.pointerId);
    drag.current = { mode, x: e.clientX, y: e.clientY, window: effectiveWindow, view, pending: null, raf: null };
  };
  const onPointerMove = (e: ReactPointerEvent<HTMLDivElement>): void => {
    const d = drag.current;
    if (d) {
      d.pending = { x: e.clientX, y: e.clientY };
      d.raf ??= requestAnimationFrame(() => {
        if (drag.current) drag.current.raf = null;
        applyDrag();
      });
      return;
    }
    updateProbe(e.clientX, e.clientY);
  };
  const onPointerUp = (e: ReactPointerEvent<HTMLDivElement>): void => {
    const d = drag.current;
    if (!d) return;
    if (d.raf !== null) cancelAnimationFrame(d.raf);
    d.pending = { x: e.clientX, y: e.clientY };
    applyDrag();
    drag.current = null;
  };

  const probeRaf = useRef<number | null>(null);
  const updateProbe = (clientX: number, clientY: number): void => {
    if (probeRaf.current !== null) return;
    probeRaf.current = requestAnimationFrame(() => {
      probeRaf.current = null;
      const geometry = rendererRef.current?.geometry();
      if (!geometry || !current) return setProbe((p) => (p === null ? p : null));
      const rect = bounds();
      const { column, row } = canvasToImage(clientX - rect.left, clientY - rect.top, view, geometry);
      const c = Math.floor(column);
      const r = Math.floor(row);
      const { columns, rows, pixels, samplesPerPixel } = current.pixels;
      if (c < 0 || r < 0 || c >= columns || r >= rows) return setProbe((p) => (p === null ? p : null));
      const i = r * columns + c;
      const value =
        samplesPerPixel === 3
          ? `RGB ${pixels[i * 3]}, ${pixels[i * 3 + 1]}, ${pixels[i * 3 + 2]}`
          : `${series.modality === 'CT' ? 'HU' : 'Value'} ${Math.round((pixels[i] ?? 0) * 100) / 100}`;
      // Chromium sends synthetic pointer moves after every layout change: only a new pixel re-renders the overlay.
      setProbe((p) => (p && p.column === c && p.row === r && p.value === value ? p : { column: c, row: r, value }));
    });
  };

  const onWheel = (e: WheelEvent): void => {
    e.preventDefault();
    if (e.ctrlKey) {
      const geometry = rendererRef.current?.geometry();
      if (!geometry) return;
      const rect = bounds();
      setView((v) => zoomAt(v, Math.exp(-e.deltaY / 400), e.clientX - rect.left, e.clientY - rect.top, geometry));
      return;
    }
    if (e.deltaY !== 0) step(Math.sign(e.deltaY));
  };
  const onWheelEvent = useEffectEvent(onWheel);
  useEffect(() => {
    // A non-passive listener so that the page never scrolls or zooms under the viewer.
    const container = containerRef.current!;
    const listener = (e: WheelEvent): void => onWheelEvent(e);
    container.addEventListener('wheel', listener, { passive: false });
    return () => container.removeEventListener('wheel', listener);
  }, []);

  const instance = slice?.instance;

  return (
    <div className="viewport-column">
      <div className="viewer-toolbar" role="toolbar" aria-label="Viewer tools">
        {tools.map((t) => (
          <button
            key={t.tool}
            type="button"
            className={`btn btn-tool${tool === t.tool ? ' btn-active' : ''}`}
            onClick={() => setTool(t.tool)}
            title={`${t.label} on the left button (${t.key}); right-drag always windows`}
            aria-pressed={tool === t.tool}
          >
            <Icon name={t.icon} /> <span className="tool-label">{t.label}</span>
          </button>
        ))}
        <span className="toolbar-sep" />
        {windowPresets.map((p) => (
          <button
            key={p.key}
            type="button"
            className={`btn btn-tool${presetName === p.name ? ' btn-active' : ''}`}
            onClick={() => applyPreset(p.key)}
            title={`${p.name}: W ${p.width} / L ${p.center} (${p.key})`}
            data-testid={`preset-${p.key}`}
          >
            <kbd className="kbd">{p.key}</kbd> {p.name}
          </button>
        ))}
        <span className="toolbar-sep" />
        <button type="button" className={`btn btn-tool${invert ? ' btn-active' : ''}`} onClick={() => setInvert((v) => !v)} title="Invert (I)" aria-pressed={invert}>
          <Icon name="invert" /> Invert
        </button>
        <button type="button" className="btn btn-tool" onClick={() => setView((v) => ({ ...v, flipH: !v.flipH }))} title="Flip horizontally (H)">
          <Icon name="flip" />
        </button>
        <button type="button" className="btn btn-tool" onClick={reset} title="Reset view and window (R, Space)" data-testid="viewer-reset">
          <Icon name="reset" /> Reset
        </button>
      </div>
      <div
        ref={containerRef}
        className="viewport"
        tabIndex={0}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
        onPointerLeave={() => setProbe(null)}
        onContextMenu={(e) => e.preventDefault()}
        onAuxClick={(e) => e.preventDefault()}
        data-testid="viewport"
        data-slice={index}
        data-window={effectiveWindow ? `${Math.round(effectiveWindow.width)}/${Math.round(effectiveWindow.center)}` : ''}
        data-sop={shownSop ?? ''}
        style={{ cursor: tool === 'pan' ? 'grab' : tool === 'zoom' ? 'zoom-in' : 'crosshair' }}
      >
        <canvas ref={canvasRef} className="viewport-canvas" data-testid="viewport-canvas" />
        {undisplayable && series.isReport && instance ? (
          <ReportView key={instance.sopInstanceUid} sopInstanceUid={instance.sopInstanceUid} reason={undisplayable} />
        ) : undisplayable ? (
          <div className="viewport-message">
            <Icon name="info" size={24} />
            <p>This image cannot be shown.</p>
            <p className="muted">{undisplayable}</p>
          </div>
        ) : frameError ? (
          <div className="viewport-message">
            <ErrorNotice error={frameError} title={`Image ${index + 1} could not be decoded`} />
          </div>
        ) : !current && (instances.loading || slices.length > 0) ? (
          <div className="viewport-message muted">Loading image…</div>
        ) : instances.error ? (
          <div className="viewport-message">
            <ErrorNotice error={instances.error} title="The images of this series could not be listed" />
          </div>
        ) : null}
        <div className="overlay overlay-tl" data-testid="overlay-patient">
          <div className="overlay-strong">{formatPersonName(study.patientName)}</div>
          <div>{study.patientId}</div>
          <div>{formatStudyDate(study.studyDate)}</div>
          {study.accessionNumber ? <div>Acc {study.accessionNumber}</div> : null}
        </div>
        <div className="overlay overlay-tr">
          <div className="overlay-strong">{study.description}</div>
          <div>
            {series.modality} · Se {series.seriesNumber ?? '—'}
          </div>
          <div>{series.description}</div>
        </div>
        <div className="overlay overlay-bl" data-testid="overlay-image">
          <div>
            Im {slices.length ? index + 1 : 0}/{slices.length}
            {slice && slice.instance.frames > 1 ? ` · fr ${slice.frame + 1}/${slice.instance.frames}` : ''}
          </div>
          {instance?.instanceNumber !== null && instance?.instanceNumber !== undefined ? <div>Inst #{instance.instanceNumber}</div> : null}
          {instance?.sliceLocation !== null && instance?.sliceLocation !== undefined ? <div>Loc {instance.sliceLocation.toFixed(1)} mm</div> : null}
          {current ? (
            <div>
              {current.pixels.columns}×{current.pixels.rows}
              {current.pixels.pixelSpacing ? ` · ${current.pixels.pixelSpacing[1].toFixed(2)} mm` : ''}
            </div>
          ) : null}
          {series.warnings.length > 0 ? (
            <div className="overlay-warn" title={series.warnings.join('\n')}>
              ⚠ {series.warnings[0]}
              {series.warnings.length > 1 ? ` (+${series.warnings.length - 1})` : ''}
            </div>
          ) : null}
        </div>
        <div className="overlay overlay-br" data-testid="overlay-window">
          {probe ? (
            <div>
              ({probe.column}, {probe.row}) {probe.value}
            </div>
          ) : null}
          <div>Zoom {Math.round(view.zoom * 100)}%</div>
          <div className="overlay-strong">
            {effectiveWindow ? formatWindow(effectiveWindow) : '—'}
            {presetName ? ` · ${presetName}` : userWindow ? '' : ' · file'}
          </div>
          {invert ? <div>Inverted</div> : null}
        </div>
        {slices.length > 1 ? <SliceScrollbar index={index} count={slices.length} onChange={setIndex} /> : null}
      </div>
    </div>
  );
}

/** A structured report (SR) has no pixels: its content tree is shown as text instead. */
function ReportView({ sopInstanceUid, reason }: { sopInstanceUid: string; reason: string }) {
  const report = useAsync(() => window.api.studies.report({ sopInstanceUid }), [sopInstanceUid]);
  return (
    <div className="report-view" data-testid="sr-report">
      <div className="report-view-head">
        <Icon name="file" /> Structured report <span className="muted">· {reason}</span>
      </div>
      {report.error ? (
        <ErrorNotice error={report.error} title="The report content could not be read" />
      ) : (
        <pre className="report-text">{report.data?.text ?? 'Loading…'}</pre>
      )}
    </div>
  );
}

function SliceScrollbar({ index, count, onChange }: { index: number; count: number; onChange: (index: number) => void }) {
  const trackRef = useRef<HTMLDivElement>(null);
  const pick = (clientY: number): void => {
    const rect = trackRef.current!.getBoundingClientRect();
    const fraction = Math.max(0, Math.min(1, (clientY - rect.top) / rect.height));
    onChange(Math.round(fraction * (count - 1)));
  };
  const thumb = Math.max(6, 100 / count);
  return (
    <div
      ref={trackRef}
      className="slice-scrollbar"
      onPointerDown={(e) => {
        e.stopPropagation();
        e.currentTarget.setPointerCapture(e.pointerId);
        pick(e.clientY);
      }}
      onPointerMove={(e) => {
        if (e.buttons & 1) pick(e.clientY);
      }}
      role="scrollbar"
      aria-orientation="vertical"
      aria-valuemin={1}
      aria-valuemax={count}
      aria-valuenow={index + 1}
      aria-controls="viewport"
    >
      <div className="slice-scrollbar-thumb" style={{ top: `${(index / Math.max(1, count - 1)) * (100 - thumb)}%`, height: `${thumb}%` }} />
    </div>
  );
}
