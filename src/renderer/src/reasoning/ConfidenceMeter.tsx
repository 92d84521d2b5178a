import type { ConfidenceReport } from '../../../shared/contract';
import { formatProbability } from '../lib/format';

/** The answer's probability as a bar, with the CDIR threshold marked on it. */
export function ConfidenceMeter({ confidence, threshold }: { confidence: ConfidenceReport; threshold: number | null }) {
  const value = confidence.used ?? confidence.firstToken ?? confidence.optionMass;
  const below = value !== null && threshold !== null && value < threshold;
  return (
    <div className="confidence" data-testid="confidence-meter" data-value={value ?? ''}>
      <div className="confidence-head">
        <span>Confidence</span>
        <strong className={below ? 'text-warn' : 'text-ok'}>{formatProbability(value)}</strong>
        <span className="muted">{confidence.source === 'option-mass' ? 'option mass' : 'first answer token'}</span>
      </div>
      <div className="confidence-track" role="meter" aria-valuemin={0} aria-valuemax={1} aria-valuenow={value ?? undefined} aria-label="Answer confidence">
        <div className={`confidence-fill${below ? ' confidence-low' : ''}`} style={{ width: `${Math.max(0, Math.min(1, value ?? 0)) * 100}%` }} />
        {threshold !== null ? (
          <div className="confidence-threshold" style={{ left: `${threshold * 100}%` }} title={`CDIR threshold ${threshold}`} />
        ) : null}
      </div>
      <div className="confidence-detail muted">
        first token {formatProbability(confidence.firstToken)} · option mass {formatProbability(confidence.optionMass)}
        {threshold !== null ? ` · threshold ${threshold}` : ''}
      </div>
    </div>
  );
}
