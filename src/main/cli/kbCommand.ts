import { parseArgs } from 'node:util';
import type { RetrievalMode } from '../../shared/contract';
import { toErrorPayload } from '../errors/AppError';
import { installBundledKnowledge } from '../knowledge/bundled/installBundledKnowledge';
import type { CliCommand } from './CliContext';

const usage = `usage: npm run kb -- <command>
  ingest <paths…> [--license <text>] [--attribution <text>]   ingest files/folders (txt, md, jsonl, MedQuAD xml, cnxml, pdf)
  search "<query>" [--k N] [--mode lexical|vector|hybrid] [--json]
  stats [--json]
  remove <sourceId>
  embed                                    embed passages that have no vector from the configured model
  bundled                                  install the bundled MedQuAD knowledge base (done on first app start)
  cases ingest <folder>                    MedPix 2.0 split, covid-chestxray, or cases.jsonl
  cases search <image> [--k N] [--json]`;

/** `npm run kb -- …`: the knowledge base from the command line, over the same services as the app. */
export const kbCommand: CliCommand = async (argv, { app, out, err }) => {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      k: { type: 'string' },
      mode: { type: 'string' },
      json: { type: 'boolean', default: false },
      license: { type: 'string' },
      attribution: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...rest] = positionals;
  if (!command || values.help) {
    (values.help ? out : err)(usage);
    return values.help ? 0 : 2;
  }
  const k = values.k === undefined ? undefined : Number(values.k);
  if (k !== undefined && !(Number.isInteger(k) && k >= 1)) {
    err(`--k: expected a positive integer, found ${JSON.stringify(values.k)}`);
    return 2;
  }
  try {
    const { knowledge, config } = await app();
    if (command === 'search' || command === 'stats') {
      // A fresh data directory gets the bundled knowledge base first (the app does this in the background).
      await installBundledKnowledge(knowledge, config.resourcesDir);
    }
    switch (command) {
      case 'ingest': {
        if (rest.length === 0) return fail(err, 'ingest: expected at least one file or folder');
        const summary = await knowledge.ingest(rest, {
          license: values.license ?? null,
          attribution: values.attribution ?? null,
          onProgress: (r, done, total) =>
            err(
              `[${done}/${total}] ${r.status.padEnd(8)} ${r.file}${r.status === 'ingested' ? ` (+${r.passagesAdded} passages${r.duplicates ? `, ${r.duplicates} duplicates` : ''})` : ''}${r.reason ? ` — ${r.reason}` : ''}${r.error ? ` — ${r.error.code}: ${r.error.message}` : ''}`,
            ),
        });
        const failed = summary.files.filter((f) => f.status === 'failed').length;
        out(`${summary.passagesAdded} passages added from ${summary.files.length - failed} file(s); ${failed} failed`);
        return failed > 0 ? 1 : 0;
      }
      case 'search': {
        const query = rest.join(' ');
        const mode = values.mode as RetrievalMode | undefined;
        const response = await knowledge.search(query, { k: k ?? 3, mode: mode ?? 'hybrid' });
        if (values.json) {
          out(JSON.stringify(response, null, 2));
          return 0;
        }
        out(
          `mode: ${response.mode}${response.lexicalOnlyReason ? ` (lexical only: ${response.lexicalOnlyReason})` : ''}${response.embeddingModel ? `, vectors: ${response.embeddingModel}` : ''} — ${response.tookMs.toFixed(1)} ms`,
        );
        for (const hit of response.hits) {
          const p = hit.provenance;
          out(`\n${hit.rank}. [${hit.score.toFixed(4)}] ${hit.title}`);
          out(
            `   ${p.sourceTitle}${p.section.length ? ` › ${p.section.join(' › ')}` : ''}${p.page ? `, p. ${p.page}` : ''} (passage ${hit.passageId}, chars ${p.charStart}–${p.charEnd})`,
          );
          if (p.url) out(`   ${p.url}`);
          if (p.license) out(`   license: ${p.license}`);
          out(`   ${hit.snippet}`);
        }
        return 0;
      }
      case 'stats': {
        const stats = knowledge.stats();
        if (values.json) {
          out(JSON.stringify(stats, null, 2));
          return 0;
        }
        out(`${stats.sources.length} sources, ${stats.passages} passages, ${stats.vectors} vectors`);
        out(
          `embedding model: ${stats.embeddingModel ? `${stats.embeddingModel.name} (${stats.embeddingModel.dims}-d)` : 'none (lexical-only retrieval)'}`,
        );
        out(`cases: ${stats.cases} with ${stats.caseImages} images (encoder ${stats.caseEncoder})`);
        for (const s of stats.sources.slice(0, 50))
          out(
            `  #${s.id} ${s.origin === 'bundled' ? '[bundled] ' : ''}${s.title} — ${s.passages} passages, ${s.format}${s.license ? `, ${s.license}` : ''}`,
          );
        if (stats.sources.length > 50) out(`  … and ${stats.sources.length - 50} more (--json lists all)`);
        return 0;
      }
      case 'remove': {
        const id = Number(rest[0]);
        if (!Number.isInteger(id)) return fail(err, `remove: expected a source id, found ${JSON.stringify(rest[0])}`);
        knowledge.removeSource(id);
        out(`source ${id} removed`);
        return 0;
      }
      case 'embed': {
        const result = await knowledge.embedPending({ onProgress: (done, total) => err(`embedded ${done}/${total}`) });
        out(`${result.embedded} passages embedded`);
        return 0;
      }
      case 'bundled': {
        const result = await installBundledKnowledge(knowledge, config.resourcesDir, {
          onProgress: (r, done, total) => err(`[${done}/${total}] ${r.status} ${r.file} (+${r.passagesAdded})`),
        });
        out(`${result.installed} bundled file(s) installed (${result.files} shipped)`);
        return 0;
      }
      case 'cases': {
        const [sub, target] = rest;
        if (sub === 'ingest' && target) {
          const summary = await knowledge.ingestCases(target, {
            onProgress: (r, done, total) =>
              err(
                `[${done}/${total}] ${r.status.padEnd(8)} ${r.caseId}${r.images ? ` (${r.images} images)` : ''}${r.reason ? ` — ${r.reason}` : ''}${r.error ? ` — ${r.error.code}: ${r.error.message}` : ''}`,
              ),
          });
          const failed = summary.cases.filter((c) => c.status === 'failed').length;
          out(`${summary.corpus}: ${summary.imagesAdded} images added; ${failed} case(s) failed`);
          return failed > 0 ? 1 : 0;
        }
        if (sub === 'search' && target) {
          const hits = await knowledge.searchCases(target, k ?? 3);
          if (values.json) {
            out(JSON.stringify(hits, null, 2));
            return 0;
          }
          for (const h of hits) {
            out(`${h.rank}. [${h.score.toFixed(4)}] ${h.title}${h.diagnosis ? ` — diagnosis: ${h.diagnosis}` : ''}`);
            out(`   ${[h.modality, h.plane].filter(Boolean).join(', ')} ${h.imagePath} (${h.corpus})`);
          }
          return 0;
        }
        return fail(err, usage);
      }
      default:
        return fail(err, `unknown command "${command}"\n${usage}`);
    }
  } catch (error) {
    const { code, message } = toErrorPayload(error);
    err(`${code}: ${message}`);
    return 1;
  }
};

function fail(err: (line: string) => void, message: string): number {
  err(message);
  return 2;
}
