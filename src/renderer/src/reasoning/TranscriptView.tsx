import { memo, useLayoutEffect, useRef } from 'react';
import type { AttemptView, TranscriptBlock } from './runState';

const Block = memo(function Block({ block }: { block: TranscriptBlock }) {
  if (block.type === 'round') {
    return (
      <span className="tx-round" data-round={block.round}>
        ⟶ retrieved passages, round {block.round}
      </span>
    );
  }
  return <span className={`tx tx-${block.kind}`}>{block.text}</span>;
});

/**
 * The model's output as it streams, styled by protocol segment (think / query / answer). Completed blocks are memoised,
 * so a token only re-renders the last text node. Follows the end unless the reader scrolled up.
 */
export function TranscriptView({ attempts, streaming }: { attempts: AttemptView[]; streaming: boolean }) {
  const ref = useRef<HTMLDivElement>(null);
  const pinned = useRef(true);
  useLayoutEffect(() => {
    const el = ref.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  });
  return (
    <div
      ref={ref}
      className="transcript"
      data-testid="transcript"
      onScroll={(e) => {
        const el = e.currentTarget;
        pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
      }}
    >
      {attempts.map((attempt) => (
        <div key={attempt.attempt} className="tx-attempt">
          {attempts.length > 1 ? (
            <div className="tx-attempt-head">
              Attempt {attempt.attempt}
              {attempt.attempt > 1 ? ' · with the similar case (CDIR)' : ''}
            </div>
          ) : null}
          {attempt.blocks.map((block, i) => (
            <Block key={i} block={block} />
          ))}
        </div>
      ))}
      {streaming ? <span className="tx-caret" aria-hidden="true" /> : null}
    </div>
  );
}
