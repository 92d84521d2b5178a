/**
 * Builds the bundled knowledge base from a MedQuAD checkout (github.com/abachaa/MedQuAD, CC BY 4.0):
 *   npx tsx src/main/knowledge/bundled/buildMedquadBundle.ts ../shared/data/text/medquad resources/knowledge/medquad
 * One gzipped JSONL per MedQuAD collection; its first line carries the title, license and attribution, then one
 * record per answered question: {id, title (the question), text (the answer), url, section: [focus, question]}.
 * Deterministic output (sorted input, fixed gzip header), so rebuilding from the same data gives the same bytes.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { isMedquad, medquadAttribution, medquadLicense, parseMedquad } from '../formats/medquadXml';
import { parseXml } from '../formats/xml';

export function buildMedquadBundle(
  medquadDir: string,
  outDir: string,
): { file: string; records: number; bytes: number }[] {
  mkdirSync(outDir, { recursive: true });
  const written = [];
  const collections = readdirSync(medquadDir)
    .filter((d) => statSync(join(medquadDir, d)).isDirectory())
    .sort();
  for (const collection of collections) {
    const lines: string[] = [];
    const name = collection
      .replace(/^\d+_/, '')
      .replace(/_QA(_XML)?$/, '')
      .replace(/_/g, ' ');
    lines.push(
      JSON.stringify({
        _meta: {
          title: `MedQuAD — ${name}`,
          license: medquadLicense,
          attribution: `${medquadAttribution}; collection ${collection}`,
        },
      }),
    );
    let records = 0;
    for (const file of readdirSync(join(medquadDir, collection))
      .filter((f) => f.endsWith('.xml'))
      .sort()) {
      const path = join(medquadDir, collection, file);
      const root = parseXml(readFileSync(path, 'utf8'), path);
      if (!isMedquad(root)) continue;
      for (const document of parseMedquad(root, path).documents) {
        const section = document.paragraphs[0]?.headingPath ?? [document.title];
        lines.push(
          JSON.stringify({
            id: document.id,
            title: document.title,
            text: document.paragraphs.map((p) => p.text).join('\n\n'),
            url: document.url,
            section,
          }),
        );
        records++;
      }
    }
    const out = join(outDir, `${basename(collection).toLowerCase()}.jsonl.gz`);
    const gz = gzipSync(`${lines.join('\n')}\n`, { level: 9 });
    gz[9] = 3; // OS = Unix, whatever the build machine: byte-identical output
    writeFileSync(out, gz);
    written.push({ file: out, records, bytes: gz.length });
  }
  return written;
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const [source, target] = process.argv.slice(2);
  if (!source || !target) {
    process.stderr.write('usage: buildMedquadBundle <medquad folder> <output folder>\n');
    process.exit(2);
  }
  for (const w of buildMedquadBundle(source, target))
    process.stdout.write(`${w.file}: ${w.records} records, ${w.bytes} bytes\n`);
}
