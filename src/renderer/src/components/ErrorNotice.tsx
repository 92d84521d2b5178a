import type { ReactNode } from 'react';
import { errorInfo } from '../lib/apiErrors';
import { Icon } from './Icon';

/** An error as the user should see it: what happened, the stable code for support, and what to do. */
export function ErrorNotice({
  error,
  title,
  action,
  compact = false,
}: {
  error: unknown;
  title?: string;
  action?: ReactNode;
  compact?: boolean;
}) {
  const info = errorInfo(error);
  const unavailable = info.code === 'NOT_AVAILABLE';
  return (
    <div
      className={`notice ${unavailable ? 'notice-unavailable' : 'notice-error'}${compact ? ' notice-compact' : ''}`}
      role={unavailable ? 'status' : 'alert'}
      data-testid="error-notice"
      data-code={info.code}
    >
      <Icon name={unavailable ? 'info' : 'warning'} />
      <div className="notice-body">
        {title ? <strong>{title}</strong> : null}
        <span className="notice-message">{info.message}</span>
        {info.hint ? <span className="notice-hint">{info.hint}</span> : null}
        {action ? <div className="notice-action">{action}</div> : null}
      </div>
      <code className="notice-code">{info.code}</code>
    </div>
  );
}
