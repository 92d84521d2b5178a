import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeApp, type App } from '../compose';
import { thumbnailPng } from '../knowledge/cases/decodeImage';
import { projectRoot } from '../knowledge/testSupport/sharedData';
import type { CliContext } from './CliContext';
import { kbCommand } from './kbCommand';

let dir: string;
let app: App;
let out: string[];
let err: string[];
let context: CliContext;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kb-cli-'));
  // The bundled knowledge base comes from a small resources folder (one MedQuAD file) to keep the test quick.
  const resources = join(dir, 'resources');
  mkdirSync(join(resources, 'knowledge/medquad'), { recursive: true });
  const { copyFileSync } = await import('node:fs');
  copyFileSync(
    join(projectRoot, 'resources/knowledge/medquad/9_cdc_qa.jsonl.gz'),
    join(resources, 'knowledge/medquad/9_cdc_qa.jsonl.gz'),
  );
  app = await composeApp({
    dataDir: join(dir, 'data'),
    resourcesDir: resources,
    version: 'test',
    dialogs: { open: async () => [] },
    installBundledKnowledge: false,
  });
  context = { app: async () => app, out: (l) => out.push(l), err: (l) => err.push(l) };
});
afterAll(async () => {
  await app.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function kb(...argv: string[]): Promise<number> {
  out = [];
  err = [];
  return kbCommand(argv, context);
}

describe('npm run kb', () => {
  it('installs the bundled knowledge base before the first search and prints hits with provenance', async () => {
    expect(await kb('search', 'how', 'is', 'taeniasis', 'treated', '--k', '2')).toBe(0);
    expect(out[0]).toMatch(/^mode: lexical \(lexical only: no embedding model is configured\)/);
    expect(out.join('\n')).toMatch(/1\. \[\d+\.\d{4}\] .*Taeniasis/);
    expect(out.join('\n')).toMatch(/MedQuAD — CDC › Parasites - Taeniasis/);
    expect(out.join('\n')).toMatch(/license: CC BY 4\.0/);
    expect(await kb('search', 'tapeworm', '--json', '--mode', 'lexical')).toBe(0);
    const response = JSON.parse(out.join('\n')) as { hits: { provenance: { url: string } }[]; lexicalOnly: boolean };
    expect(response.lexicalOnly).toBe(true);
    expect(response.hits).toHaveLength(3);
  });

  it('ingests files with per-file outcomes, lists stats and removes a source', async () => {
    const good = join(dir, 'note.md');
    writeFileSync(
      good,
      '# Pleural effusion\n\nFluid between the pleural layers; blunting of the costophrenic angle on a radiograph.\n',
    );
    expect(await kb('ingest', good, join(dir, 'missing.pdf'), '--license', 'CC0')).toBe(1);
    expect(err).toEqual([
      expect.stringMatching(/^\[1\/2\] ingested .*note\.md \(\+1 passages\)$/),
      expect.stringMatching(/^\[2\/2\] failed .*missing\.pdf — NOT_FOUND: /),
    ]);
    expect(out).toEqual(['1 passages added from 1 file(s); 1 failed']);
    expect(await kb('stats')).toBe(0);
    expect(out[0]).toMatch(/^2 sources, \d+ passages, 0 vectors$/);
    const id = /#(\d+) Pleural effusion/.exec(out.join('\n'))![1]!;
    expect(await kb('remove', id)).toBe(0);
    expect(await kb('remove', id)).toBe(1);
    expect(err[0]).toMatch(/^NOT_FOUND: source/);
  });

  it('ingests and searches an image-case folder', async () => {
    const folder = join(dir, 'cases');
    mkdirSync(folder);
    const image = (f: (x: number, y: number) => number): Uint8Array => {
      const data = new Uint8Array(64 * 64);
      for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) data[y * 64 + x] = f(x, y);
      return thumbnailPng({ width: 64, height: 64, channels: 1, data }, 64);
    };
    writeFileSync(
      join(folder, 'ring.png'),
      image((x, y) => (Math.abs(Math.hypot(x - 32, y - 32) - 20) < 4 ? 240 : 20)),
    );
    writeFileSync(
      join(folder, 'bars.png'),
      image((x) => (x % 16 < 8 ? 230 : 10)),
    );
    writeFileSync(
      join(folder, 'cases.jsonl'),
      `${JSON.stringify({ id: 'ring', title: 'Ring lesion', diagnosis: 'Abscess', images: ['ring.png'] })}\n${JSON.stringify({ id: 'bars', title: 'Bars', images: ['bars.png'] })}\n`,
    );
    expect(await kb('cases', 'ingest', folder)).toBe(0);
    expect(out).toEqual(['cases: 2 images added; 0 case(s) failed']);
    expect(await kb('cases', 'search', join(folder, 'ring.png'), '--k', '1')).toBe(0);
    expect(out[0]).toMatch(/^1\. \[1\.0000\] Ring lesion — diagnosis: Abscess$/);
  });

  it('explains its usage and rejects bad arguments', async () => {
    expect(await kb()).toBe(2);
    expect(err[0]).toMatch(/^usage: npm run kb/);
    expect(await kb('search', 'x', '--k', 'zero')).toBe(2);
    expect(await kb('frobnicate')).toBe(2);
  });
});
