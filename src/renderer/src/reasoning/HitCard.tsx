import { memo, useEffect, useState } from 'react';
import type { Passage, SearchHit } from '../../../shared/contract';
import { ErrorNotice } from '../components/ErrorNotice';
import { Modal } from '../components/Modal';
import { baseName } from '../lib/format';

function location(hit: { provenance: SearchHit['provenance'] }): string {
  const parts: string[] = [];
  if (hit.provenance.section.length > 0) parts.push(hit.provenance.section.join(' › '));
  if (hit.provenance.page !== null) parts.push(`p. ${hit.provenance.page}`);
  return parts.join(' · ');
}

/** One retrieved passage: what it is, where it comes from, how well it scored; click for the full text. */
export const HitCard = memo(function HitCard({ hit, onOpen }: { hit: SearchHit; onOpen: (hit: SearchHit) => void }) {
  const where = location(hit);
  return (
    <button type="button" className="hit-card" onClick={() => onOpen(hit)} data-testid="hit-card" title="Open the full passage with its provenance">
      <span className="hit-head">
        <span className="hit-rank">{hit.rank}</span>
        <span className="hit-title">{hit.title}</span>
        <span className="hit-score" title={scoreTitle(hit)}>
          {hit.score.toFixed(3)}
        </span>
      </span>
      <span className="hit-source">
        {hit.provenance.sourceTitle}
        {where ? <span className="muted"> · {where}</span> : null}
      </span>
      <span className="hit-snippet">{hit.snippet}</span>
    </button>
  );
});

function scoreTitle(hit: SearchHit): string {
  const parts = [`score ${hit.score.toFixed(4)}`];
  if (hit.lexicalScore !== null) parts.push(`lexical (bm25) ${hit.lexicalScore.toFixed(3)}`);
  if (hit.vectorScore !== null) parts.push(`vector (cosine) ${hit.vectorScore.toFixed(3)}`);
  if (hit.rerankScore !== null) parts.push(`rerank ${hit.rerankScore.toFixed(3)}`);
  return parts.join('\n');
}

/** The full passage behind a hit, with provenance and license, fetched through `knowledge.passage`. */
export function PassageModal({ hit, onClose }: { hit: SearchHit; onClose: () => void }) {
  const [passage, setPassage] = useState<Passage | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let current = true;
    window.api.knowledge.passage({ passageId: hit.passageId }).then(
      (p) => current && setPassage(p),
      (e: unknown) => current && setError(e),
    );
    return () => {
      current = false;
    };
  }, [hit.passageId]);
  const provenance = passage?.provenance ?? hit.provenance;
  return (
    <Modal title={hit.title} onClose={onClose} wide testId="passage-modal">
      <dl className="provenance" data-testid="passage-provenance">
        <dt>Source</dt>
        <dd>{provenance.sourceTitle}</dd>
        <dt>File</dt>
        <dd className="mono" title={provenance.sourceFile}>
          {baseName(provenance.sourceFile)}
        </dd>
        {provenance.section.length > 0 ? (
          <>
            <dt>Section</dt>
            <dd>{provenance.section.join(' › ')}</dd>
          </>
        ) : null}
        {provenance.page !== null ? (
          <>
            <dt>Page</dt>
            <dd>{provenance.page}</dd>
          </>
        ) : null}
        {provenance.documentId ? (
          <>
            <dt>Record</dt>
            <dd className="mono">{provenance.documentId}</dd>
          </>
        ) : null}
        {provenance.url ? (
          <>
            <dt>Web page</dt>
            <dd className="mono" title="Shown for citation only: the station does not go online">
              {provenance.url}
            </dd>
          </>
        ) : null}
        <dt>License</dt>
        <dd data-testid="passage-license">{provenance.license ?? 'not stated by the source'}</dd>
        {provenance.attribution ? (
          <>
            <dt>Attribution</dt>
            <dd className="small">{provenance.attribution}</dd>
          </>
        ) : null}
        <dt>Characters</dt>
        <dd className="mono">
          {provenance.charStart}–{provenance.charEnd}
        </dd>
        <dt>Scores</dt>
        <dd className="mono">
          rank {hit.rank} · score {hit.score.toFixed(4)}
          {hit.lexicalScore !== null ? ` · bm25 ${hit.lexicalScore.toFixed(3)}` : ''}
          {hit.vectorScore !== null ? ` · cosine ${hit.vectorScore.toFixed(3)}` : ' · no vector score (lexical only)'}
          {hit.rerankScore !== null ? ` · rerank ${hit.rerankScore.toFixed(3)}` : ''}
        </dd>
        <dt>Passage id</dt>
        <dd className="mono">{hit.passageId}</dd>
      </dl>
      {error ? <ErrorNotice error={error} title="The full passage could not be loaded; the snippet is shown" compact /> : null}
      <div className="passage-text" data-testid="passage-text">
        {passage ? passage.text : error ? hit.text || hit.snippet : 'Loading…'}
      </div>
    </Modal>
  );
}
