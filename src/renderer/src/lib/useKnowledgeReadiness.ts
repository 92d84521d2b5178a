import { useEffect, useState } from 'react';
import type { KnowledgeReadiness } from '../../../shared/contract';

/**
 * The bundled knowledge base's build state (first start): asked once, then followed through the install's
 * `knowledge.ingestProgress` events and its `runs.finished`. Null until the first answer.
 */
export function useKnowledgeReadiness(): KnowledgeReadiness | null {
  const [readiness, setReadiness] = useState<KnowledgeReadiness | null>(null);
  useEffect(() => {
    let current = true;
    const refresh = (): void => {
      window.api.reasoning.readiness().then(
        (r) => current && setReadiness(r),
        () => undefined,
      );
    };
    refresh();
    const offProgress = window.api.knowledge.onIngestProgress((e) =>
      setReadiness((r) =>
        r && r.state === 'building' && r.runId === e.runId ? { ...r, filesDone: e.filesDone, filesTotal: e.filesTotal } : r,
      ),
    );
    const offFinished = window.api.runs.onFinished(({ kind }) => {
      if (kind === 'knowledge.bundled') refresh();
    });
    return () => {
      current = false;
      offProgress();
      offFinished();
    };
  }, []);
  return readiness;
}
