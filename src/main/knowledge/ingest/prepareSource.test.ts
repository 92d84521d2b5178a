import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { passageHash } from '../store/PassageRepository';
import { projectRoot, sharedData } from '../testSupport/sharedData';
import { writeTextPdf } from '../testSupport/writeTextPdf';
import { prepareSource, textHashAt } from './prepareSource';

const scratch = mkdtempSync(join(tmpdir(), 'kb-prepare-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const bundled = join(projectRoot, 'resources/knowledge/medquad');
const openstax = sharedData('text/openstax_anatomy_physiology_2e');
const medquad = sharedData('text/medquad');

/** Every passage's packed hash must be the general dedupe hash of its text: stores written before hold those. */
async function expectGeneralHashes(file: string, chunking = {}): Promise<number> {
  const source = await prepareSource(readFileSync(file), file, chunking);
  expect(source.passages.length).toBeGreaterThan(0);
  source.passages.forEach((passage, i) => {
    expect(Buffer.from(textHashAt(source, i)).toString('hex'), `${file} passage ${i}`).toBe(
      passageHash(passage.text).toString('hex'),
    );
  });
  return source.passages.filter((p) => p.text.includes('\n\n')).length;
}

describe('prepared passages: the chunk hash is the general dedupe hash', () => {
  it('holds for the bundled MedQuAD JSONL, including chunks that join paragraphs', async () => {
    let joined = 0;
    for (const name of readdirSync(bundled).filter((n) => n.endsWith('.jsonl.gz'))) {
      joined += await expectGeneralHashes(join(bundled, name));
    }
    // The fast hash only differs from a plain one where paragraphs are joined: make sure those were checked.
    expect(joined).toBeGreaterThan(100);
  });

  it('holds for a PDF, and for small chunks cut at sentences and spaces', async () => {
    const pdf = join(scratch, 'effusion.pdf');
    writeFileSync(
      pdf,
      writeTextPdf([
        {
          heading: 'Pleural effusion',
          paragraphs: [
            'Blunting of the costophrenic angle.  A meniscus sign on the upright radiograph.',
            'Large effusions displace the mediastinum away from the affected side. '.repeat(12),
          ],
        },
      ]),
    );
    await expectGeneralHashes(pdf);
    await expectGeneralHashes(pdf, { maxTokens: 16, overlapTokens: 4 });
  });

  it.skipIf(!openstax)('holds for OpenStax plain text, Markdown and CNXML (../shared)', async () => {
    await expectGeneralHashes(join(openstax!, 'plaintext_derived/009_m45991_Medical_Imaging.txt'));
    await expectGeneralHashes(join(openstax!, 'README.md'));
    await expectGeneralHashes(join(openstax!, 'modules/m45991/index.cnxml'), { maxTokens: 64 });
  });

  it.skipIf(!medquad)('holds for MedQuAD XML (../shared)', async () => {
    const folder = join(medquad!, '1_CancerGov_QA');
    for (const name of readdirSync(folder).slice(0, 20)) await expectGeneralHashes(join(folder, name));
  });
});
