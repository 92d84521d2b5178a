import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from './loadDataset';
import { selectItems } from './selectItems';

const vqaRadDir = resolve(import.meta.dirname, '../../../../../shared/data/vqa-rad');
const hasVqaRad = existsSync(join(vqaRadDir, 'testset.json'));

describe.skipIf(!hasVqaRad)(
  'VQA-RAD (MEVF json) from ../shared/data/vqa-rad — skipped when ../shared is absent',
  () => {
    it('loads every test question with its hashed JPEG and closed yes/no options', async () => {
      const dataset = await loadDataset({ format: 'vqa-rad', path: join(vqaRadDir, 'testset.json') });
      expect(dataset.rows).toBe(451);
      expect(dataset.problems).toEqual([]);
      expect(dataset.items).toHaveLength(451);
      expect(dataset.items.filter((i) => i.answerType === 'closed')).toHaveLength(272);
      expect(dataset.sha256).toMatch(/^[0-9a-f]{64}$/);
      const first = dataset.items[0]!;
      expect(first).toMatchObject({
        id: '11',
        row: 1,
        question: 'Is there evidence of an aortic aneurysm?',
        answer: 'yes',
        answerType: 'closed',
        choices: ['yes', 'no'],
        choicesSource: 'yes-no',
        questionType: 'PRES',
        meta: { organ: 'CHEST', phrase: 'freeform' },
      });
      expect(first.images[0]).toMatchObject({ path: join(vqaRadDir, 'images/synpic42202.jpg'), format: 'jpeg' });
      expect(first.images[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
      const open = dataset.items.find((i) => i.answerType === 'open')!;
      expect(open.choices).toBeNull();
    });

    it('reads numeric answers and "CLOSED " with a trailing space in the train split', async () => {
      const dataset = await loadDataset({ format: 'vqa-rad', path: join(vqaRadDir, 'trainset.json') });
      expect(dataset.rows).toBe(3064);
      expect(dataset.problems).toEqual([]);
      expect(dataset.items.find((i) => i.id === '2392')).toMatchObject({ answer: '4', answerType: 'open' });
    });
  },
);

describe('generic JSONL and SLAKE json with bad rows', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'medrwr-eval-ds-'));
    // Only the signature matters here: images are identified and hashed, not decoded, when a dataset loads.
    writeFileSync(join(dir, 'a.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]));
    const dicom = Buffer.alloc(140);
    dicom.write('DICM', 128, 'latin1');
    writeFileSync(join(dir, 'b.dcm'), dicom);
    writeFileSync(join(dir, 'notes.txt'), 'not an image');
    const lines = [
      { id: 'ok-1', image: 'a.png', question: 'Is there a mass?', answer: 'No' },
      { id: 'ok-2', images: ['a.png', 'b.dcm'], question: 'Which modality?', choices: ['CT', 'MRI'], answer: 'MRI' },
      { id: 'ok-3', image: join(dir, 'a.png'), question: 'Which organ?', answer: 'liver', question_type: 'ORGAN' },
      { id: 'missing-image', image: 'nope.png', question: 'Q?', answer: 'yes' },
      { id: 'not-image', image: 'notes.txt', question: 'Q?', answer: 'yes' },
      { id: 'no-question', image: 'a.png', answer: 'yes' },
      { id: 'bad-choice', image: 'a.png', question: 'Q?', choices: ['CT', 'MRI'], answer: 'X-ray' },
      { id: 'ok-1', image: 'a.png', question: 'Again?', answer: 'yes' },
      { id: 'bad-type', image: 'a.png', question: 'Q?', answer: 'yes', answer_type: 'MAYBE' },
    ].map((l) => JSON.stringify(l));
    lines.splice(3, 0, '{not json', '', '[1,2]');
    writeFileSync(join(dir, 'set.jsonl'), lines.join('\n'));

    mkdirSync(join(dir, 'imgs/xmlab1'), { recursive: true });
    writeFileSync(join(dir, 'imgs/xmlab1/source.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0]));
    writeFileSync(
      join(dir, 'slake.json'),
      JSON.stringify([
        {
          qid: 1,
          img_name: 'xmlab1/source.jpg',
          question: 'Is the lung healthy?',
          answer: 'No',
          q_lang: 'en',
          answer_type: 'CLOSED',
          content_type: 'Abnormality',
          modality: 'CT',
          location: 'Lung',
        },
        {
          qid: 2,
          img_name: 'xmlab1/source.jpg',
          question: '肺部健康吗?',
          answer: '不',
          q_lang: 'zh',
          answer_type: 'CLOSED',
        },
        {
          qid: 3,
          img_name: 'xmlab1/source.jpg',
          question: 'What organ is shown?',
          answer: 'Lung',
          q_lang: 'en',
          answer_type: 'OPEN',
          content_type: 'Organ',
        },
      ]),
    );
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps valid rows and reports each bad one with its line and reason', async () => {
    const dataset = await loadDataset({ format: 'jsonl', path: join(dir, 'set.jsonl') });
    expect(dataset.items.map((i) => i.id)).toEqual(['ok-1', 'ok-2', 'ok-3']);
    expect(dataset.items[0]).toMatchObject({ answerType: 'closed', choices: ['yes', 'no'], choicesSource: 'yes-no' });
    expect(dataset.items[1]).toMatchObject({ answerType: 'closed', choices: ['CT', 'MRI'], choicesSource: 'dataset' });
    expect(dataset.items[1]!.images.map((i) => i.format)).toEqual(['png', 'dicom']);
    expect(dataset.items[2]).toMatchObject({ answerType: 'open', choices: null, questionType: 'ORGAN' });
    expect(dataset.problems.map((p) => [p.row, p.itemId, p.code])).toEqual([
      [4, null, 'ROW_INVALID'],
      [6, null, 'ROW_INVALID'],
      [7, 'missing-image', 'IMAGE_MISSING'],
      [8, 'not-image', 'IMAGE_UNSUPPORTED'],
      [9, 'no-question', 'ROW_INVALID'],
      [10, 'bad-choice', 'ROW_INVALID'],
      [11, 'ok-1', 'DUPLICATE_ID'],
      [12, 'bad-type', 'ROW_INVALID'],
    ]);
    expect(dataset.problems[0]!.message).toContain('invalid JSON');
    expect(dataset.problems[1]!.message).toBe('expected a JSON object, found an array');
    expect(dataset.problems[2]!.message).toContain('nope.png: expected a readable file, found ENOENT');
    expect(dataset.problems[3]!.message).toContain('expected PNG, JPEG or DICOM');
    expect(dataset.problems[4]!.message).toBe('expected a question, found nothing');
    expect(dataset.problems[5]!.message).toContain('expected the answer among the choices [CT, MRI], found "X-ray"');
    expect(dataset.rows).toBe(11);
  });

  it('reads SLAKE json from imgs/, keeping English questions', async () => {
    const dataset = await loadDataset({ format: 'slake', path: join(dir, 'slake.json') });
    expect(dataset.items.map((i) => [i.id, i.answerType, i.questionType])).toEqual([
      ['1', 'closed', 'Abnormality'],
      ['3', 'open', 'Organ'],
    ]);
    expect(dataset.items[0]!.meta).toEqual({ modality: 'CT', location: 'Lung' });
    expect(dataset.skipped).toEqual([{ reason: 'question language is not "en"', rows: 1 }]);
    expect(dataset.problems).toEqual([]);
  });

  it('fails clearly on an unreadable or unparsable dataset', async () => {
    await expect(loadDataset({ format: 'vqa-rad', path: join(dir, 'absent.json') })).rejects.toMatchObject({
      code: 'DATASET_UNREADABLE',
    });
    await expect(loadDataset({ format: 'vqa-rad', path: join(dir, 'set.jsonl') })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('expected a JSON array (vqa-rad)'),
    });
  });
});

describe('selectItems', () => {
  const items = Array.from({ length: 100 }, (_, i) => i);

  it('samples deterministically per seed and keeps dataset order', () => {
    const a = selectItems(items, { sample: { size: 10, seed: 7 } });
    expect(a).toHaveLength(10);
    expect(a).toEqual([...a].sort((x, y) => x - y));
    expect(selectItems(items, { sample: { size: 10, seed: 7 } })).toEqual(a);
    expect(selectItems(items, { sample: { size: 10, seed: 8 } })).not.toEqual(a);
    expect(new Set(a).size).toBe(10);
  });

  it('applies the limit after the sample and rejects nonsense', () => {
    expect(selectItems(items, { limit: 3 })).toEqual([0, 1, 2]);
    const sampled = selectItems(items, { sample: { size: 10, seed: 1 } });
    expect(selectItems(items, { sample: { size: 10, seed: 1 }, limit: 4 })).toEqual(sampled.slice(0, 4));
    expect(selectItems(items, { sample: { size: 500, seed: 1 } })).toHaveLength(100);
    expect(() => selectItems(items, { limit: 0 })).toThrow(/limit: expected an integer ≥ 1, found 0/);
  });
});
