import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { CaseSearchHit, RetrievalMode, SearchHit } from '../../shared/contract';
import { throwIfAborted } from '../errors/AppError';
import type { CaseRetriever, KnowledgeFingerprint, PassageRetriever, SimilarCase } from './ports';
import { mimeOf } from './StudyImageSource';

/** What the loop needs of the knowledge service's text search (hits carry the whole passage text). */
export interface TextSearchService {
  search(
    query: string,
    options: { k: number; mode: RetrievalMode; signal?: AbortSignal },
  ): Promise<{ hits: (SearchHit & { text: string })[]; lexicalOnly: boolean }>;
}

export function passageRetrieverFrom(service: TextSearchService): PassageRetriever {
  return {
    async search(query, options) {
      const response = await service.search(query, options);
      return { hits: response.hits.map((hit) => ({ hit, text: hit.text })), lexicalOnly: response.lexicalOnly };
    },
  };
}

/** What CDIR needs of the image-case library: search by image bytes, hits naming the case image on disk. */
export interface ImageCaseSearch {
  search(image: Uint8Array, k: number, options: { signal?: AbortSignal }): Promise<(CaseSearchHit & { imagePath: string })[]>;
}

/**
 * Similar cases with their images read from disk, as the model will receive them. A case whose image can no longer
 * be read is skipped (the next one is used), so a moved corpus degrades to "no case found" rather than failing.
 */
export function caseRetrieverFrom(library: ImageCaseSearch): CaseRetriever {
  return {
    async searchByImage(image, options) {
      const hits = await library.search(image.bytes, options.k, { signal: options.signal });
      const cases: SimilarCase[] = [];
      for (const hit of hits) {
        throwIfAborted(options.signal, 'similar-case search');
        const bytes = await readFile(hit.imagePath).then(
          (b) => new Uint8Array(b),
          () => null,
        );
        const mime = bytes && mimeOf(bytes);
        if (!bytes || !mime) continue;
        cases.push({ hit, bytes, mime, image: mime === 'image/png' ? { png: bytes } : { path: hit.imagePath } });
      }
      return cases;
    },
  };
}

/** What the audit's knowledge fingerprint needs of the knowledge service. */
export interface KnowledgeStatsSource {
  stats(): { sources: { sha256: string }[]; embeddingModel: { sha256: string } | null };
}

/**
 * The knowledge base's identity for the audit record: a hash over its sources' content hashes (what was ingested,
 * not when), and the embedding model's hash. Null when the knowledge base is empty.
 */
export function knowledgeFingerprintFrom(service: KnowledgeStatsSource): KnowledgeFingerprint {
  const stats = service.stats();
  const sources = stats.sources.map((s) => s.sha256).sort();
  return {
    embedding: stats.embeddingModel?.sha256 ?? null,
    knowledgeBase: sources.length ? createHash('sha256').update(sources.join('\n')).digest('hex') : null,
  };
}
