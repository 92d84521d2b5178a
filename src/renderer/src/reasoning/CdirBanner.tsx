import { useEffect, useState } from 'react';
import { formatProbability } from '../lib/format';
import { useDataUrl } from '../lib/hooks';
import type { CdirEvent } from './runState';

/** CDIR fired: the confidence fell below the threshold, and the model re-reasons with a similar case. */
export function CdirBanner({ cdir }: { cdir: CdirEvent }) {
  const [expanded, setExpanded] = useState(false);
  const [thumb, setThumb] = useState<Uint8Array | null>(null);
  const similar = cdir.similarCase;
  useEffect(() => {
    if (!similar) return;
    let current = true;
    window.api.knowledge.caseImage({ imageId: similar.imageId, maxSize: 160 }).then(
      (png) => current && setThumb(png),
      () => undefined,
    );
    return () => {
      current = false;
    };
  }, [similar]);
  const url = useDataUrl(thumb);
  if (cdir.triggered === false && !similar) {
    return (
      <div className={`cdir-line${cdir.confidence < cdir.threshold ? ' cdir-line-warn' : ''}`} data-testid="cdir-decision">
        <strong>CDIR</strong> <span>{cdir.reason}</span>
      </div>
    );
  }
  return (
    <section className="cdir-banner" data-testid="cdir-banner" aria-label="Confidence-driven image re-retrieval">
      <header>
        <strong>CDIR</strong>
        <span>
          confidence <b className="text-warn">{formatProbability(cdir.confidence)}</b> &lt; threshold <b>{cdir.threshold}</b>
        </span>
        <span className="muted">{cdir.reason}</span>
      </header>
      <div className="cdir-scale" aria-hidden="true">
        <div className="cdir-scale-fill" style={{ width: `${Math.min(1, cdir.confidence) * 100}%` }} />
        <div className="confidence-threshold" style={{ left: `${cdir.threshold * 100}%` }} />
      </div>
      {similar ? (
        <div className="cdir-case" data-testid="cdir-case">
          {url ? <img src={url} alt={`Similar case: ${similar.title}`} className="cdir-thumb" /> : <div className="cdir-thumb cdir-thumb-empty">case</div>}
          <div className="cdir-case-text">
            <div className="cdir-case-title">
              {similar.title} <span className="muted">· similarity {similar.score.toFixed(3)}</span>
            </div>
            <div className="muted">
              {[similar.modality, similar.plane, similar.diagnosis ? `Dx: ${similar.diagnosis}` : null].filter(Boolean).join(' · ')}
            </div>
            <p className={`cdir-consultation${expanded ? '' : ' clamp'}`}>{similar.consultation}</p>
            {similar.consultation.length > 220 ? (
              <button type="button" className="btn btn-link" onClick={() => setExpanded((v) => !v)}>
                {expanded ? 'Less' : 'Full consultation'}
              </button>
            ) : null}
          </div>
        </div>
      ) : (
        <p className="muted">No similar case was found in the image-case corpus; the first answer stands.</p>
      )}
    </section>
  );
}
