/** Determinate when `total` is known and positive, indeterminate otherwise. */
export function ProgressBar({
  done,
  total,
  label,
  testId,
}: {
  done: number;
  total: number | null;
  label?: string;
  testId?: string;
}) {
  const fraction = total && total > 0 ? Math.min(1, done / total) : null;
  return (
    <div className="progress" data-testid={testId}>
      <div
        className={`progress-track${fraction === null ? ' progress-indeterminate' : ''}`}
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={total ?? undefined}
        aria-valuenow={fraction === null ? undefined : done}
        aria-label={label}
      >
        <div className="progress-fill" style={fraction === null ? undefined : { width: `${fraction * 100}%` }} />
      </div>
      {label ? <span className="progress-label">{label}</span> : null}
    </div>
  );
}
