import { memo, useLayoutEffect, useRef } from 'react';
import type { AttemptView, TranscriptBlock } from './runState';

/**
 * Long segments are cut into paragraph blocks at sentence ends (or, failing that, at a space) once they pass
 * `minChars`: completed blocks keep their layout, so a streamed token lays out one short paragraph, not the whole
 * transcript (which would make a long run quadratic).
 */
export function chunkText(text: string, minChars = 600, maxChars = 1200): string[] {
  const chunks: string[] = [];
  let start = 0;
  while (text.length - start > maxChars) {
    const window = text.slice(start + minChars, start + maxChars);
    const sentence = window.search(/[.?!:;]\s|\n/);
    const cut = sentence >= 0 ? start + minChars + sentence + 1 : text.lastIndexOf(' ', start + maxChars);
    if (cut <= start) break;
    chunks.push(text.slice(start, cut));
    start = cut;
  }
  chunks.push(text.slice(start));
  return chunks;
}

const Chunk = memo(function Chunk({ text }: { text: string }) {
  return <div className="tx-chunk">{text}</div>;
});

const Block = memo(function Block({ block }: { block: TranscriptBlock }) {
  if (block.type === 'cdir') {
    return <div className="tx-round">⟶ the similar case's image and consultation were added (CDIR)</div>;
  }
  if (block.type === 'round') {
    return (
      <div className="tx-round" data-round={block.round}>
        ⟶ retrieved passages, round {block.round}
      </div>
    );
  }
  return (
    <div className={`tx tx-${block.kind}`}>
      {chunkText(block.text).map((chunk, i) => (
        <Chunk key={i} text={chunk} />
      ))}
    </div>
  );
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
