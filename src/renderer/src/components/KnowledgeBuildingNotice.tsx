import type { KnowledgeReadiness } from '../../../shared/contract';
import { Icon } from './Icon';
import { ProgressBar } from './ProgressBar';

/** Shown while the bundled knowledge base is built on first start: what waits for it, and how far it is. */
export function KnowledgeBuildingNotice({ readiness, what }: { readiness: KnowledgeReadiness | null; what: string }) {
  if (readiness?.state !== 'building') return null;
  const { filesDone, filesTotal } = readiness;
  return (
    <div className="notice notice-unavailable" role="status" data-testid="knowledge-building">
      <Icon name="book" />
      <div className="notice-body">
        <strong>Building knowledge base…</strong>
        <span className="notice-message">
          The bundled MedQuAD knowledge base is being built (first start). {what} wait for it, so that none searches a
          half-built one.
        </span>
        <ProgressBar
          done={filesDone}
          total={filesTotal}
          label={filesTotal ? `${filesDone} / ${filesTotal} files` : 'starting…'}
        />
      </div>
    </div>
  );
}
