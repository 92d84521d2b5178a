import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot, sharedData } from '../testSupport/sharedData';
import { writeTextPdf } from '../testSupport/writeTextPdf';
import { readSource } from './readSource';

const openstax = sharedData('text/openstax_anatomy_physiology_2e');
const medquad = sharedData('text/medquad');
const systemPdf = '/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf';
const scratch = mkdtempSync(join(tmpdir(), 'kb-formats-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Every paragraph's offsets must point at text that is really there (for .txt/.md: in the file itself). */
function expectOffsetsInto(text: string, paragraphs: { text: string; start: number; end: number }[]): void {
  for (const p of paragraphs.slice(0, 50)) {
    const words = p.text.split(' ').slice(0, 3).join(' ');
    expect(text.slice(p.start, p.end).replace(/\s+/g, ' ')).toContain(words.replace(/[*_`#[\]]/g, '').slice(0, 8));
  }
}

describe.skipIf(!openstax)('plain text and Markdown from OpenStax (../shared/data/text/openstax…)', () => {
  it('reads a plain-text module: title, headings, offsets into the file', async () => {
    const file = join(openstax!, 'plaintext_derived/009_m45991_Medical_Imaging.txt');
    const { parsed, sha256 } = await readSource(file);
    expect(sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(parsed.format).toBe('text');
    expect(parsed.title).toBe('An Introduction to the Human Body — Medical Imaging');
    const paragraphs = parsed.documents[0]!.paragraphs;
    expect(paragraphs.length).toBeGreaterThan(10);
    expect(paragraphs.some((p) => p.headingPath[0] === 'X-Rays' && /Röntgen/.test(p.text))).toBe(true);
    expectOffsetsInto(readFileSync(file, 'utf8'), paragraphs);
  });

  it('reads Markdown: headings as the section path, inline markup stripped', async () => {
    const file = join(openstax!, 'README.md');
    const { parsed } = await readSource(file);
    expect(parsed.format).toBe('markdown');
    expect(parsed.title).toBe('Anatomy and Physiology 2e');
    const license = parsed.documents[0]!.paragraphs.find((p) => p.headingPath.includes('License'));
    expect(license?.text).toMatch(/^Anatomy and Physiology 2e is available under the Creative Commons/);
    expect(license?.text).not.toMatch(/\]\(|_/);
    expectOffsetsInto(readFileSync(file, 'utf8'), parsed.documents[0]!.paragraphs);
  });

  it('reads an OpenStax CNXML module with nested sections, figures and lists', async () => {
    const { parsed } = await readSource(join(openstax!, 'modules/m45991/index.cnxml'));
    expect(parsed.format).toBe('cnxml');
    expect(parsed.title).toBe('Medical Imaging');
    const { paragraphs, id } = parsed.documents[0]!;
    expect(id).toBe('m45991');
    expect(paragraphs.some((p) => p.headingPath.join('/').includes('X-Rays') && /Röntgen/.test(p.text))).toBe(true);
    expect(paragraphs.some((p) => p.text.startsWith('[Figure: '))).toBe(true);
    expect(paragraphs.every((p) => !/<|>/.test(p.text))).toBe(true);
  });
});

describe.skipIf(!medquad)('MedQuAD XML (../shared/data/text/medquad)', () => {
  it('reads one document per answered QA pair, with focus, question, URL and license', async () => {
    const { parsed } = await readSource(join(medquad!, '1_CancerGov_QA/0000001_1.xml'));
    expect(parsed.format).toBe('medquad-xml');
    expect(parsed.license).toBe('CC BY 4.0');
    const first = parsed.documents[0]!;
    expect(first.id).toBe('0000001_1-1');
    expect(first.title).toBe('What is (are) Adult Acute Lymphoblastic Leukemia ?');
    expect(first.url).toBe('https://www.cancer.gov/types/leukemia/patient/adult-all-treatment-pdq');
    expect(first.paragraphs[0]!.headingPath).toEqual(['Adult Acute Lymphoblastic Leukemia', first.title]);
    expect(first.paragraphs.length).toBeGreaterThan(1);
  });

  it('also reads the <doc>/<qaPairs> (NINDS) and <DiseaseFile> (CDC) variants', async () => {
    const ninds = (await readSource(join(medquad!, '6_NINDS_QA/0000007.xml'))).parsed;
    expect(ninds.documents[0]!.title).toBe('what is holmes-adie syndrome ?');
    expect(ninds.title).toContain('Holmes-Adie');
    const cdc = (await readSource(join(medquad!, '9_CDC_QA/0000397.xml'))).parsed;
    expect(cdc.documents[0]!.paragraphs[0]!.text).toMatch(/^Taeniasis in humans/);
    expect(cdc.documents.some((d) => d.paragraphs.some((p) => p.text.includes("don't eat raw")))).toBe(true);
  });
});

describe('JSONL and gzip (the bundled knowledge base, always in resources/)', () => {
  it('reads the meta line and records of a gzipped JSONL', async () => {
    const { parsed } = await readSource(join(projectRoot, 'resources/knowledge/medquad/9_cdc_qa.jsonl.gz'));
    expect(parsed.format).toBe('jsonl');
    expect(parsed.title).toBe('MedQuAD — CDC');
    expect(parsed.license).toBe('CC BY 4.0');
    expect(parsed.attribution).toMatch(/Ben Abacha/);
    expect(parsed.documents.length).toBeGreaterThan(200);
    const doc = parsed.documents[0]!;
    expect(doc.id).toBeTruthy();
    expect(doc.url).toMatch(/^https?:\/\/www\.cdc\.gov/);
    expect(doc.paragraphs[0]!.headingPath.length).toBe(2);
  });

  it('names the line of a malformed record', async () => {
    const file = join(scratch, 'bad.jsonl');
    writeFileSync(file, '{"id":1,"title":"a","text":"b"}\n{"id":2,"title":"c"}\n');
    await expect(readSource(file)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringMatching(/line 2: expected a "text" string, found nothing/),
    });
    writeFileSync(file, '{"id":1,"title":"a","text":"b"}\nnot json\n');
    await expect(readSource(file)).rejects.toMatchObject({
      message: expect.stringMatching(/line 2: expected a JSON object, found invalid JSON/),
    });
  });

  it('rejects malformed XML and unknown formats with the reason', async () => {
    const xml = join(scratch, 'broken.xml');
    writeFileSync(xml, '<Document><QAPairs><QAPair></QAPairs></Document>');
    await expect(readSource(xml)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringMatching(/expected <\/QAPair>, found <\/QAPairs>/),
    });
    const other = join(scratch, 'notes.docx');
    writeFileSync(other, 'x');
    await expect(readSource(other)).rejects.toMatchObject({ code: 'UNSUPPORTED_FORMAT' });
    const fake = join(scratch, 'fake.pdf');
    writeFileSync(fake, 'hello');
    await expect(readSource(fake)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringMatching(/expected a PDF/),
    });
  });
});

describe('PDF (pdfjs-dist)', () => {
  it('keeps page numbers and turns larger lines into headings (a PDF written from MedQuAD text)', async () => {
    const file = join(scratch, 'glaucoma.pdf');
    writeFileSync(
      file,
      writeTextPdf(
        [
          {
            heading: 'Glaucoma',
            paragraphs: [
              "Glaucoma is a group of diseases that can damage the eye's optic nerve and result in vision loss and blindness.",
              'Open-angle glaucoma is the most common form.',
            ],
          },
          {
            heading: 'Symptoms of Glaucoma',
            paragraphs: ['At first, open-angle glaucoma has no symptoms. It causes no pain. Vision stays normal.'],
          },
        ],
        'Facts About Glaucoma',
      ),
    );
    const { parsed } = await readSource(file);
    expect(parsed.format).toBe('pdf');
    expect(parsed.title).toBe('Facts About Glaucoma');
    const paragraphs = parsed.documents[0]!.paragraphs;
    expect(paragraphs.map((p) => [p.page, p.headingPath.join('/'), p.text.slice(0, 20)])).toEqual([
      [1, 'Glaucoma', 'Glaucoma is a group '],
      [1, 'Glaucoma', 'Open-angle glaucoma '],
      [2, 'Symptoms of Glaucoma', 'At first, open-angle'],
    ]);
  });

  it.skipIf(!readable(systemPdf))(
    'reads a real LaTeX-made PDF: section headings, pages, no running headers',
    async () => {
      const { parsed } = await readSource(systemPdf);
      const paragraphs = parsed.documents[0]!.paragraphs;
      expect(parsed.title).toBe('Shared MIME-info Database');
      expect(paragraphs.length).toBeGreaterThan(50);
      expect(new Set(paragraphs.map((p) => p.page)).size).toBeGreaterThan(10);
      expect(
        paragraphs.some((p) => p.headingPath.includes('1.3. Language used in this specification') && p.page === 2),
      ).toBe(true);
      expect(paragraphs.filter((p) => p.page! > 1 && p.text === 'Shared MIME-info Database')).toEqual([]);
    },
  );
});

function readable(path: string): boolean {
  try {
    readFileSync(path, { flag: 'r' });
    return true;
  } catch {
    return false;
  }
}
