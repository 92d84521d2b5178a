import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { InvalidInputError } from '../../errors/AppError';
import { csvRecords } from './csv';

export interface CaseImageRecord {
  path: string;
  modality: string | null;
  plane: string | null;
  caption: string | null;
}

export interface CaseRecord {
  externalId: string;
  title: string;
  diagnosis: string | null;
  consultation: string;
  metadata: Record<string, unknown>;
  license: string | null;
  images: CaseImageRecord[];
}

export interface CaseCorpus {
  /** Human name of the corpus, recorded on every case (e.g. "MedPix 2.0 (test split)"). */
  name: string;
  format: 'medpix2' | 'covid-chestxray' | 'cases-jsonl';
  cases: CaseRecord[];
}

/**
 * Reads a case folder in one of the layouts it recognises:
 * - MedPix 2.0 splits: `data_<split>.jsonl` (cases) + `descriptions_<split>.jsonl` (images) + `images/`;
 * - covid-chestxray-dataset: `metadata*.csv` + `images/` (one case per patient; serial images grouped);
 * - generic: `cases.jsonl`, one case per line:
 *   `{"id", "title", "diagnosis"?, "consultation"? | "history"?/"findings"?, "license"?, "images": [{"path",
 *   "modality"?, "plane"?, "caption"?}]}` with image paths relative to the folder.
 */
export async function readCaseCorpus(folder: string): Promise<CaseCorpus> {
  const entries = await readdir(folder).catch((error: NodeJS.ErrnoException) => {
    throw new InvalidInputError(folder, 'a readable folder', error.code ?? String(error));
  });
  const dataFile = entries.find((e) => /^data_[\w-]+\.jsonl$/.test(e));
  if (dataFile && entries.some((e) => e.startsWith('descriptions_')) && entries.includes('images')) {
    return readMedpix(folder, dataFile);
  }
  const metadata = ['metadata_subset.csv', 'metadata.csv'].find((m) => entries.includes(m));
  if (metadata && entries.includes('images')) return readCovid(folder, metadata);
  if (entries.includes('cases.jsonl')) return readCasesJsonl(folder);
  throw new InvalidInputError(
    folder,
    'a case folder (MedPix 2.0 data_*.jsonl + descriptions_*.jsonl + images/, covid-chestxray metadata.csv + images/, or cases.jsonl)',
    entries.length === 0 ? 'an empty folder' : `${entries.slice(0, 6).join(', ')}${entries.length > 6 ? ', …' : ''}`,
  );
}

function jsonLines(text: string, what: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .map((line, i) => ({ line: line.trim(), i }))
    .filter(({ line }) => line)
    .map(({ line, i }) => {
      try {
        const value = JSON.parse(line) as unknown;
        if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
        return value as Record<string, unknown>;
      } catch (error) {
        throw new InvalidInputError(`${what} line ${i + 1}`, 'a JSON object', (error as Error).message);
      }
    });
}

const str = (value: unknown): string | null => (typeof value === 'string' && value.trim() ? value.trim() : null);

function consultationText(parts: [string, string | null][]): string {
  return parts
    .filter(([, text]) => text)
    .map(([label, text]) => `${label}: ${text!.replace(/\s*\n\s*/g, '; ').replace(/\s+/g, ' ')}`)
    .join('\n');
}

async function readMedpix(folder: string, dataFile: string): Promise<CaseCorpus> {
  const split = dataFile.replace(/^data_|\.jsonl$/g, '');
  const cases = jsonLines(await readFile(join(folder, dataFile), 'utf8'), dataFile);
  const descriptionsFile = join(folder, `descriptions_${split}.jsonl`);
  const descriptions = existsSync(descriptionsFile)
    ? jsonLines(await readFile(descriptionsFile, 'utf8'), basename(descriptionsFile))
    : [];
  const imagesByCase = new Map<string, CaseImageRecord[]>();
  for (const d of descriptions) {
    const caseId = str(d['U_id']);
    const image = str(d['image']);
    if (!caseId || !image) continue;
    const description = (d['Description'] ?? {}) as Record<string, unknown>;
    const list = imagesByCase.get(caseId) ?? [];
    list.push({
      path: join(folder, 'images', `${image}.png`),
      modality: str(description['Modality']) ?? str(d['Type']),
      plane: str(description['Plane']),
      caption: str(description['Caption']),
    });
    imagesByCase.set(caseId, list);
  }
  const records: CaseRecord[] = [];
  for (const row of cases) {
    const id = str(row['U_id']);
    if (!id) continue;
    const c = (row['Case'] ?? {}) as Record<string, unknown>;
    const topic = (row['Topic'] ?? {}) as Record<string, unknown>;
    const listed = [...((row['TAC'] as string[] | undefined) ?? []), ...((row['MRI'] as string[] | undefined) ?? [])];
    const images =
      imagesByCase.get(id) ??
      listed.map((name) => ({
        path: join(folder, 'images', `${name}.png`),
        modality: null,
        plane: null,
        caption: null,
      }));
    const diagnosis = str(c['Case Diagnosis']);
    records.push({
      externalId: id,
      title: str(c['Title']) ?? str(topic['Title']) ?? id,
      diagnosis,
      consultation: consultationText([
        ['History', str(c['History'])],
        ['Exam', str(c['Exam'])],
        ['Findings', str(c['Findings'])],
        ['Differential diagnosis', str(c['Differential Diagnosis'])],
        ['Diagnosis', diagnosis],
      ]),
      metadata: {
        diagnosisBy: str(c['Diagnosis By']),
        category: str(topic['Category']),
        acrCode: str(topic['ACR Code']),
        topic: str(topic['Title']),
      },
      license: null,
      images: images.filter((image) => existsSync(image.path)),
    });
  }
  return { name: `MedPix 2.0 (${split} split)`, format: 'medpix2', cases: records };
}

async function readCovid(folder: string, metadataFile: string): Promise<CaseCorpus> {
  const rows = csvRecords(await readFile(join(folder, metadataFile), 'utf8'));
  const byPatient = new Map<string, Record<string, string>[]>();
  for (const row of rows) {
    const file = row['filename'];
    if (!file || !existsSync(join(folder, row['folder'] || 'images', file))) continue;
    const patient = row['patientid'] || file;
    byPatient.set(patient, [...(byPatient.get(patient) ?? []), row]);
  }
  const records: CaseRecord[] = [];
  for (const [patient, list] of byPatient) {
    list.sort((a, b) => Number(a['offset'] || 0) - Number(b['offset'] || 0));
    const first = list[0]!;
    const findings = [...new Set(list.map((r) => r['finding']).filter(Boolean))];
    const notes = [...new Set(list.map((r) => r['clinical_notes']?.trim()).filter(Boolean))];
    const licenses = [...new Set(list.map((r) => r['license']?.trim()).filter(Boolean))];
    const who = [
      first['age'] && `${first['age']} years`,
      first['sex'] === 'M' ? 'male' : first['sex'] === 'F' ? 'female' : null,
    ]
      .filter(Boolean)
      .join(', ');
    records.push({
      externalId: `patient-${patient}`,
      title: `${findings.join(', ') || 'Chest imaging'}${who ? ` (${who})` : ''}`,
      diagnosis: findings.join(', ') || null,
      consultation: consultationText([
        ['Patient', who || null],
        ['Clinical notes', notes.join(' ') || null],
        ['Diagnosis', findings.join(', ') || null],
      ]),
      metadata: {
        patientId: patient,
        offsets: list.map((r) => r['offset'] || null),
        survival: first['survival'] || null,
        doi: first['doi'] || null,
        url: first['url'] || null,
        location: first['location'] || null,
      },
      license: licenses.join('; ') || null,
      images: list.map((r) => ({
        path: join(folder, r['folder'] || 'images', r['filename']!),
        modality: r['modality'] || null,
        plane: r['view'] || null,
        caption: [r['offset'] && `day ${r['offset']}`, r['clinical_notes']].filter(Boolean).join(': ') || null,
      })),
    });
  }
  return { name: 'COVID-19 chest X-ray dataset (ieee8023)', format: 'covid-chestxray', cases: records };
}

async function readCasesJsonl(folder: string): Promise<CaseCorpus> {
  const rows = jsonLines(await readFile(join(folder, 'cases.jsonl'), 'utf8'), 'cases.jsonl');
  const records = rows.map((row, i): CaseRecord => {
    const id = row['id'];
    if (typeof id !== 'string' && typeof id !== 'number')
      throw new InvalidInputError(`cases.jsonl line ${i + 1}`, 'an "id"', JSON.stringify(id));
    const images = row['images'];
    if (!Array.isArray(images))
      throw new InvalidInputError(`cases.jsonl line ${i + 1}`, 'an "images" array', typeof images);
    const diagnosis = str(row['diagnosis']);
    return {
      externalId: String(id),
      title: str(row['title']) ?? String(id),
      diagnosis,
      consultation:
        str(row['consultation']) ??
        consultationText([
          ['History', str(row['history'])],
          ['Findings', str(row['findings'])],
          ['Diagnosis', diagnosis],
        ]),
      metadata: {},
      license: str(row['license']),
      images: images.map((image: unknown) => {
        const entry = (typeof image === 'string' ? { path: image } : image) as Record<string, unknown>;
        const path = String(entry['path'] ?? '');
        return {
          path: isAbsolute(path) ? path : resolve(folder, path),
          modality: str(entry['modality']),
          plane: str(entry['plane']),
          caption: str(entry['caption']),
        };
      }),
    };
  });
  return { name: basename(resolve(folder)), format: 'cases-jsonl', cases: records };
}
