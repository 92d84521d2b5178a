import type { ReactNode } from 'react';
import { Icon, type IconName } from './Icon';

/** An empty place that says why it is empty and what to do about it. */
export function EmptyState({
  icon,
  title,
  children,
  actions,
  testId,
}: {
  icon: IconName;
  title: string;
  children?: ReactNode;
  actions?: ReactNode;
  testId?: string;
}) {
  return (
    <div className="empty-state" data-testid={testId}>
      <Icon name={icon} size={32} />
      <h3>{title}</h3>
      {children ? <div className="empty-text">{children}</div> : null}
      {actions ? <div className="empty-actions">{actions}</div> : null}
    </div>
  );
}
