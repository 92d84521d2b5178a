import { useEffect, useState } from 'react';
import type { SeriesSummary } from '../../../shared/contract';
import { Icon } from '../components/Icon';
import { useDataUrl } from '../lib/hooks';

/** The series of the open study as thumbnails (middle image), with number, description and image count. */
export function SeriesStrip({
  series,
  current,
  onSelect,
}: {
  series: SeriesSummary[];
  current: number;
  onSelect: (index: number) => void;
}) {
  return (
    <nav className="series-strip" aria-label="Series" data-testid="series-strip">
      {series.map((s, i) => (
        <button
          key={s.seriesInstanceUid}
          type="button"
          className={`series-thumb${i === current ? ' series-thumb-active' : ''}`}
          onClick={() => onSelect(i)}
          title={`${s.description || 'Series'} — ${s.instanceCount} instance(s)${s.warnings.length ? `\n${s.warnings.join('\n')}` : ''}`}
          data-testid="series-thumb"
        >
          <Thumbnail series={s} />
          <span className="series-thumb-label">
            <span className="series-thumb-top">
              <span className="modality">{s.modality}</span>
              {s.seriesNumber !== null ? <span>#{s.seriesNumber}</span> : null}
              <span className="muted">{s.frameCount > s.instanceCount ? `${s.frameCount} fr` : `${s.instanceCount} im`}</span>
              {s.warnings.length > 0 ? (
                <span className="warn-mark" aria-label="series warnings">
                  <Icon name="warning" size={12} />
                </span>
              ) : null}
            </span>
            <span className="series-thumb-desc">{s.description || (s.isReport ? 'Report' : 'No description')}</span>
          </span>
        </button>
      ))}
    </nav>
  );
}

function Thumbnail({ series }: { series: SeriesSummary }) {
  const [bytes, setBytes] = useState<Uint8Array | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    if (series.isReport) return;
    let current = true;
    window.api.studies.thumbnail({ seriesInstanceUid: series.seriesInstanceUid, maxSize: 128 }).then(
      (png) => current && setBytes(png),
      () => current && setFailed(true),
    );
    return () => {
      current = false;
    };
  }, [series.seriesInstanceUid, series.isReport]);
  const url = useDataUrl(bytes);
  if (url) return <img className="series-thumb-image" src={url} alt="" draggable={false} />;
  return (
    <span className="series-thumb-image series-thumb-placeholder">
      {series.isReport ? 'SR' : failed ? series.modality : '…'}
    </span>
  );
}
