import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { AppError, InvalidInputError } from '../../errors/AppError';
import { isCnxml, parseCnxml } from './cnxml';
import { parseJsonl } from './jsonl';
import { parseMarkdown } from './markdown';
import { isMedquad, parseMedquad } from './medquadXml';
import type { ParsedSource } from './ParsedSource';
import { parsePdf } from './pdf';
import { parsePlainText } from './plainText';
import { parseXml } from './xml';

/** File name endings ingestion picks up when it walks a folder. */
export const supportedExtensions = ['.txt', '.md', '.markdown', '.jsonl', '.ndjson', '.xml', '.cnxml', '.pdf'];

export function isSupportedFile(path: string): boolean {
  const name = path.toLowerCase().replace(/\.gz$/, '');
  return supportedExtensions.some((ext) => name.endsWith(ext));
}

export interface ReadSource {
  parsed: ParsedSource;
  sha256: string;
  bytes: number;
}

/** Thrown for a file whose format ingestion does not understand. */
export class UnsupportedFormatError extends AppError {
  constructor(file: string, found: string) {
    super('UNSUPPORTED_FORMAT', `${file}: expected ${supportedExtensions.join(', ')} (optionally .gz), found ${found}`);
  }
}

/** Reads and parses one file; the sha256 of its bytes identifies the source (re-ingesting it is a no-op). */
export async function readSource(path: string, signal?: AbortSignal): Promise<ReadSource> {
  const raw = await readFile(path, { signal });
  return { parsed: await parseSource(raw, path, signal), sha256: sha256Hex(raw), bytes: raw.length };
}

/** The hex sha256 of a file's bytes: a source's identity. */
export function sha256Hex(raw: Uint8Array): string {
  return createHash('sha256').update(raw).digest('hex');
}

/**
 * Parses a file's bytes (gzipped or not) by the format its name says. Pure: ingestion runs it on a worker thread.
 * `path` names the format and the file in error messages.
 */
export async function parseSource(raw: Uint8Array, path: string, signal?: AbortSignal): Promise<ParsedSource> {
  const gz = path.toLowerCase().endsWith('.gz');
  let bytes: Buffer;
  try {
    bytes = gz ? gunzipSync(raw) : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  } catch (error) {
    throw new InvalidInputError(path, 'gzip-compressed data', (error as Error).message);
  }
  const name = basename(path).replace(/\.gz$/i, '');
  const ext = extname(name).toLowerCase();
  const fallbackTitle =
    name
      .slice(0, name.length - ext.length)
      .replace(/[_-]+/g, ' ')
      .trim() || name;
  const text = (): string => {
    const decoded = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
    if (decoded.includes('\u0000')) throw new InvalidInputError(path, 'text', 'binary data (NUL bytes)');
    const withoutBom = decoded.replace(/^\uFEFF/, '');
    // Most files have no carriage return at all: looking costs a fraction of a replace over the whole text.
    return withoutBom.includes('\r') ? withoutBom.replace(/\r\n?/g, '\n') : withoutBom;
  };
  let parsed: ParsedSource;
  switch (ext) {
    case '.txt':
      parsed = parsePlainText(text(), fallbackTitle);
      break;
    case '.md':
    case '.markdown':
      parsed = parseMarkdown(text(), fallbackTitle);
      break;
    case '.jsonl':
    case '.ndjson':
      parsed = parseJsonl(text(), fallbackTitle, path);
      break;
    case '.xml':
    case '.cnxml': {
      const root = parseXml(text(), path);
      if (isMedquad(root)) parsed = parseMedquad(root, path);
      else if (isCnxml(root)) parsed = parseCnxml(root, fallbackTitle);
      else throw new UnsupportedFormatError(path, `XML with root <${root.name}> (neither MedQuAD nor CNXML)`);
      break;
    }
    case '.pdf':
      if (bytes.subarray(0, 5).toString('latin1') !== '%PDF-') {
        throw new InvalidInputError(
          path,
          'a PDF (starting with "%PDF-")',
          JSON.stringify(bytes.subarray(0, 8).toString('latin1')),
        );
      }
      parsed = await parsePdf(new Uint8Array(bytes), fallbackTitle, path, signal);
      break;
    default:
      throw new UnsupportedFormatError(path, ext ? `"${ext}"` : 'no extension');
  }
  return parsed;
}
