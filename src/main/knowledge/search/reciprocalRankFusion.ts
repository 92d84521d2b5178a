/**
 * Reciprocal rank fusion (Cormack et al., SIGIR 2009): score(d) = Σ 1 / (k + rank_i(d)) over the ranked lists that
 * contain d. Rank-based, so bm25 and cosine scores never need to be put on one scale. Ties keep the first list's order.
 * Defaults to k = 60, the paper's constant.
 */
export function reciprocalRankFusion(lists: readonly (readonly number[])[], k = 60): { id: number; score: number }[] {
  const scores = new Map<number, { score: number; first: number }>();
  lists.forEach((list, listIndex) => {
    list.forEach((id, rank) => {
      const entry = scores.get(id) ?? { score: 0, first: listIndex * 1e9 + rank };
      entry.score += 1 / (k + rank + 1);
      scores.set(id, entry);
    });
  });
  return [...scores.entries()]
    .sort((a, b) => b[1].score - a[1].score || a[1].first - b[1].first)
    .map(([id, { score }]) => ({ id, score }));
}
