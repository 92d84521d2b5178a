import { useState } from 'react';
import type { RetrievalMode, SearchHit, SearchResponse } from '../../../shared/contract';
import { ErrorNotice } from '../components/ErrorNotice';
import { Icon } from '../components/Icon';
import { HitCard, PassageModal } from './HitCard';

/** Retrieval without a model: the knowledge base answers a query directly, with the same hit cards. */
export function KnowledgeSearch({ defaultK }: { defaultK: number }) {
  const [query, setQuery] = useState('');
  const [mode, setMode] = useState<RetrievalMode>('hybrid');
  const [k, setK] = useState(Math.max(defaultK, 5));
  const [response, setResponse] = useState<SearchResponse | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [openHit, setOpenHit] = useState<SearchHit | null>(null);

  const search = async (): Promise<void> => {
    if (!query.trim()) return;
    setBusy(true);
    try {
      setResponse(await window.api.knowledge.search({ query, k, mode }));
      setError(null);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="knowledge-search" data-testid="knowledge-search">
      <form
        className="search-form"
        onSubmit={(e) => {
          e.preventDefault();
          void search();
        }}
      >
        <div className="search-box">
          <Icon name="search" />
          <input
            type="search"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            placeholder="Search the knowledge base, e.g. “signs of tension pneumothorax”"
            aria-label="Knowledge query"
            data-testid="knowledge-query"
          />
        </div>
        <select value={mode} onChange={(e) => setMode(e.target.value as RetrievalMode)} aria-label="Retrieval mode">
          <option value="hybrid">Hybrid</option>
          <option value="lexical">Lexical</option>
          <option value="vector">Vector</option>
        </select>
        <select value={k} onChange={(e) => setK(Number(e.target.value))} aria-label="Results">
          {[3, 5, 10, 20].map((n) => (
            <option key={n} value={n}>
              top {n}
            </option>
          ))}
        </select>
        <button type="submit" className="btn btn-primary" disabled={busy || !query.trim()}>
          Search
        </button>
      </form>
      {error ? <ErrorNotice error={error} compact /> : null}
      {response ? (
        <div className="search-results">
          <div className="muted small">
            {response.hits.length} passages · {response.mode} · {response.tookMs.toFixed(1)} ms
            {response.reranked ? (
              <span className="badge" title="Ordered by the cross-encoder reranker's relevance scores" data-testid="reranked-badge">
                reranked
              </span>
            ) : null}
            {response.lexicalOnly ? (
              <span className="badge badge-warn" title={response.lexicalOnlyReason ?? ''}>
                lexical only{response.lexicalOnlyReason ? `: ${response.lexicalOnlyReason}` : ''}
              </span>
            ) : null}
          </div>
          {response.hits.length === 0 ? (
            <p className="muted">Nothing matched. Try other words, or add sources in Settings → Knowledge.</p>
          ) : (
            response.hits.map((hit) => <HitCard key={hit.passageId} hit={hit} onOpen={setOpenHit} />)
          )}
        </div>
      ) : null}
      {openHit ? <PassageModal hit={openHit} onClose={() => setOpenHit(null)} /> : null}
    </div>
  );
}
