import { createHash } from 'node:crypto';
import type { CaseSearchHit, ReasoningEvent, SearchHit, Settings } from '../../../shared/contract';
import { defaultSettings } from '../../settings/defaultSettings';
import type { CaseRetriever, PassageRetriever, RetrievedPassage, SimilarCase, StudyImage } from '../ports';

export function hit(passageId: number, title = `Passage ${passageId}`, score = 1 / passageId): SearchHit {
  return {
    passageId,
    rank: passageId,
    score,
    lexicalScore: score,
    vectorScore: null,
    rerankScore: null,
    title,
    text: `${title} text`,
    snippet: `${title} snippet`,
    provenance: {
      sourceId: 1,
      sourceTitle: 'Test source',
      sourceFile: 'test.txt',
      license: 'CC0',
      attribution: null,
      documentId: null,
      url: null,
      section: [title],
      page: null,
      charStart: 0,
      charEnd: 10,
    },
  } as SearchHit;
}

/** A knowledge base double: passages per query (or generated ones), recording every search. */
export class FakePassages implements PassageRetriever {
  readonly queries: string[] = [];
  constructor(
    private readonly answer: (query: string) => RetrievedPassage[] = (q) =>
      [1, 2, 3, 4].map((i) => ({ hit: hit(i, `${q} ${i}`), text: `Passage ${i} about ${q}.` })),
    private readonly wait?: (signal: AbortSignal | undefined) => Promise<void>,
  ) {}

  async search(query: string, options: { k: number; signal?: AbortSignal }) {
    this.queries.push(query);
    await this.wait?.(options.signal);
    return { hits: this.answer(query).slice(0, options.k), lexicalOnly: true };
  }
}

export function png(seed: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(seed).digest());
}

export function studyImage(seed = 'study'): StudyImage {
  const bytes = png(seed);
  return {
    bytes,
    mime: 'image/png',
    sha256: createHash('sha256').update(bytes).digest('hex'),
    modelInput: { png: bytes },
    studyInstanceUid: '1.2.3',
    sopInstanceUid: '1.2.3.4',
    frame: 0,
    window: { center: 40, width: 400 },
    sourcePath: null,
  };
}

export function similarCase(seed = 'case', consultation = 'Prior case: subdural hematoma, evacuated.'): SimilarCase {
  const bytes = png(seed);
  return {
    hit: {
      caseId: 7,
      imageId: 70,
      rank: 1,
      score: 0.8,
      title: 'Similar case 7',
      diagnosis: 'Subdural hematoma',
      modality: 'CT',
      plane: 'axial',
      caption: null,
      consultation,
      imagePath: `/cases/${seed}.png`,
      corpus: 'test cases',
      license: null,
    } as CaseSearchHit,
    image: { png: bytes },
    bytes,
    mime: 'image/png',
  };
}

export class FakeCases implements CaseRetriever {
  calls = 0;
  constructor(private readonly cases: SimilarCase[]) {}
  async searchByImage(_image: StudyImage, options: { k: number }) {
    this.calls++;
    return this.cases.slice(0, options.k);
  }
}

export function testSettings(patch: { retrieval?: Partial<Settings['retrieval']>; reasoning?: Partial<Settings['reasoning']> } = {}): Settings {
  const s = defaultSettings();
  return { ...s, retrieval: { ...s.retrieval, ...patch.retrieval }, reasoning: { ...s.reasoning, ...patch.reasoning } };
}

/** Collects events; `text(segment)` joins the token deltas of one segment. */
export class EventLog {
  readonly events: ReasoningEvent[] = [];
  readonly emit = (e: ReasoningEvent): void => {
    this.events.push(e);
  };
  of<T extends ReasoningEvent['type']>(type: T): Extract<ReasoningEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<ReasoningEvent, { type: T }> => e.type === type);
  }
  text(segment: string, attempt = 1): string {
    return this.of('token')
      .filter((e) => e.segment === segment && e.attempt === attempt)
      .map((e) => e.text)
      .join('');
  }
}
