import type { AttemptRecord, ConfidenceReport, ExportedReport, RunRecord } from '../../shared/contract';
import { matchAnswerToOption } from '../reasoning/confidence';
import { StreamingTagParser } from '../reasoning/StreamingTagParser';

export type StoredImage = { mime: string; bytes: Uint8Array } | null;

const MEDIA_MARKER = '<__media__>';

/** "B — Subdural hematoma" when the answer names one of the choices, else the answer as written. */
export function describeAnswer(answer: string, choices: readonly string[] | null): string {
  if (!choices?.length) return answer;
  const i = matchAnswerToOption(answer, choices, true);
  if (i === null) return answer;
  const label = `${String.fromCharCode(65 + i)} — ${choices[i]}`;
  return answer.trim().toLowerCase() === choices[i]!.trim().toLowerCase() || /^\(?[A-Z]\)?[.):]?$/.test(answer.trim()) ? label : `${label} (“${answer}”)`;
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const e = escapeHtml;

function dataUri(image: StoredImage): string | null {
  if (!image || !/^image\/(png|jpeg)$/.test(image.mime)) return null;
  return `data:${image.mime};base64,${Buffer.from(image.bytes).toString('base64')}`;
}

function pct(p: number | null): string {
  return p === null ? '—' : `${(p * 100).toFixed(1)} %`;
}

function confidenceRows(c: ConfidenceReport): string {
  return [
    ['Used for the CDIR trigger', `${pct(c.used)} (${c.source})`],
    ['First answer token (model softmax)', pct(c.firstToken)],
    ['Option mass (closed questions)', pct(c.optionMass)],
    ['Sampler-reported (post-sampling)', pct(c.sampled)],
  ]
    .map(([k, v]) => `<tr><th>${e(k!)}</th><td>${e(v!)}</td></tr>`)
    .join('');
}

/** The attempt's reasoning as blocks: think, query, retrieve (written by the loop), answer. */
function reasoningBlocks(attempt: AttemptRecord): string {
  const output = attempt.transcript.slice(Math.max(0, attempt.outputStart));
  const parser = new StreamingTagParser();
  const blocks: { kind: string; text: string }[] = [];
  let depth = 0;
  for (const event of [...parser.push(output), ...parser.finish()]) {
    if (event.type === 'open') depth++;
    else if (event.type === 'close') {
      depth--;
      blocks.push({ kind: event.tag, text: event.content });
    } else if (event.type === 'text' && depth === 0 && /\S/.test(event.text)) {
      blocks.push({ kind: 'text', text: event.text });
    }
  }
  const open = parser.openTag;
  if (open) blocks.push({ kind: `${open} (unfinished)`, text: parser.openContent });
  return blocks
    .map((b) => {
      const text = e(b.text.trim()).replace(/\n/g, '<br>').replaceAll(e(MEDIA_MARKER), '<i>[similar-case image]</i>');
      return `<div class="block ${e(b.kind.split(' ')[0]!)}"><span class="tag">${e(b.kind)}</span><div>${text}</div></div>`;
    })
    .join('\n');
}

function citations(record: RunRecord): string {
  const rows = record.attempts.flatMap((a) =>
    a.queries.flatMap((q) =>
      q.hits.length === 0
        ? [`<tr><td>${a.attempt}.${q.round}</td><td>${e(q.query)}</td><td colspan="5" class="muted">${e(q.status)}</td></tr>`]
        : q.hits.map((h, i) => {
            const p = h.provenance;
            const where = [p.sourceTitle, ...p.section, p.page !== null ? `p. ${p.page}` : ''].filter(Boolean).join(' › ');
            const link = p.url ? ` <span class="muted">${e(p.url)}</span>` : '';
            return `<tr><td>${a.attempt}.${q.round}</td><td>${i === 0 ? e(q.query) : ''}</td><td>(${i + 1}) ${e(h.title)}</td><td>${e(where)}${link}</td><td>${e(p.license ?? '—')}</td><td>#${h.passageId}</td><td>${h.score.toFixed(4)}</td></tr>`;
          }),
    ),
  );
  if (rows.length === 0) return '<p class="muted">No knowledge was retrieved in this run.</p>';
  return `<table class="grid"><tr><th>Round</th><th>Query</th><th>Passage</th><th>Source</th><th>License</th><th>Id</th><th>Score</th></tr>${rows.join('')}</table>`;
}

/**
 * A self-contained HTML report of one run (no external resources; the images are data URIs): the image the model saw,
 * the question, the reasoning with its retrievals, citations, confidence, the CDIR decision and every hash needed to
 * reproduce the run.
 */
export function exportRunHtml(record: RunRecord, image: StoredImage, caseImage: StoredImage): ExportedReport {
  const kept = record.attempts.find((a) => a.kept) ?? record.attempts.at(-1);
  const img = dataUri(image);
  const caseImg = dataUri(caseImage);
  const attempts = record.attempts
    .map(
      (a) => `<section class="attempt"><h3>Attempt ${a.attempt}${a.kept ? ' — kept' : ''}${a.attempt === 2 ? ' (CDIR)' : ''}</h3>
<p class="muted">End: ${e(a.endReason)}${a.answer !== null ? ` · answer: <b>${e(describeAnswer(a.answer, record.choices))}</b>` : ''}</p>
${reasoningBlocks(a)}
<table class="kv">${confidenceRows(a.confidence)}</table>
${a.anomalies.length ? `<details><summary>${a.anomalies.length} protocol irregularities</summary><ul>${a.anomalies.map((x) => `<li>${e(x.kind)}: ${e(x.detail)}</li>`).join('')}</ul></details>` : ''}
</section>`,
    )
    .join('\n');
  const hashes: [string, string | null][] = [
    ['Reasoner', record.models.reasoner && `${record.modelNames.reasoner ?? ''} ${record.models.reasoner}`],
    ['Vision projector', record.models.mmproj && `${record.modelNames.mmproj ?? ''} ${record.models.mmproj}`],
    ['Embedding model', record.models.embedding],
    ['Knowledge base', record.models.knowledgeBase],
    ['Image (sha256 of the bytes the model saw)', record.imageSha256],
    ['Similar-case image', record.cdir.caseImageSha256],
  ];
  const similar = record.similarCase;
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>Med-RwR run ${e(record.runId)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;max-width:980px;margin:24px auto;padding:0 16px;color:#1b1f24}
h1{font-size:20px}h2{font-size:16px;margin-top:28px;border-bottom:1px solid #ddd}h3{font-size:15px}
.muted{color:#667}.answer{font-size:18px;padding:10px 14px;background:#eef6ee;border-left:4px solid #2e7d32}
.warn{background:#fff6e5;border-left:4px solid #e69500;padding:8px 12px}
table{border-collapse:collapse}td,th{padding:3px 8px;text-align:left;vertical-align:top}
.grid td,.grid th{border:1px solid #ddd}.kv th{font-weight:normal;color:#556}
.block{margin:6px 0;padding:6px 10px;border-radius:4px;background:#f5f6f8}.block .tag{font:11px monospace;color:#667}
.block.query{background:#e8f0fe}.block.retrieve{background:#f3f0e8}.block.answer{background:#eef6ee;font-weight:600}
.images{display:flex;gap:16px}.images figure{margin:0}.images img{max-width:420px;max-height:420px;border:1px solid #ccc}
code{font-size:12px;word-break:break-all}
</style></head><body>
<h1>Med-RwR reasoning report</h1>
<p class="muted">Run <code>${e(record.runId)}</code> · ${e(record.startedAt)} · ${e(record.status)} · mode ${e(record.mode)}${record.replayOf ? ` · replay of <code>${e(record.replayOf)}</code>${record.replayMatch ? (record.replayMatch.identical ? ' (identical)' : ' (differs)') : ''}` : ''}</p>
<p class="warn">Decision support only: the answer comes from a language model and must be checked by a radiologist.</p>
<h2>Question</h2><p>${e(record.question)}</p>
${record.choices ? `<ol type="A">${record.choices.map((c) => `<li>${e(c)}</li>`).join('')}</ol>` : ''}
<div class="images">
${img ? `<figure><img alt="Image given to the model" src="${img}"><figcaption class="muted">Image given to the model${record.window ? ` · window C ${record.window.center} / W ${record.window.width}` : ''}${record.sopInstanceUid ? `<br>SOP ${e(record.sopInstanceUid)} frame ${record.frame ?? 0}` : ''}</figcaption></figure>` : '<p class="muted">No image.</p>'}
${caseImg && similar ? `<figure><img alt="Similar case image" src="${caseImg}"><figcaption class="muted">Similar case: ${e(similar.title)}</figcaption></figure>` : ''}
</div>
<h2>Answer</h2>
${kept?.answer != null ? `<p class="answer">${e(describeAnswer(kept.answer, record.choices))}</p>` : `<p class="warn">No answer (${e(record.endReason)}).</p>`}
${kept ? `<table class="kv">${confidenceRows(kept.confidence)}</table>` : ''}
<h2>Confidence-driven image re-retrieval (CDIR)</h2>
<p>${e(record.cdir.decision)} — ${e(record.cdir.reason)} (threshold ${record.cdir.threshold})</p>
${similar ? `<p><b>${e(similar.title)}</b>${similar.diagnosis ? ` — ${e(similar.diagnosis)}` : ''} <span class="muted">(case #${similar.caseId}, similarity ${similar.score.toFixed(3)})</span></p><blockquote>${e(similar.consultation)}</blockquote>` : ''}
<h2>Reasoning</h2>
${attempts}
<h2>Citations</h2>
${citations(record)}
<h2>Reproducibility</h2>
<table class="kv">${hashes.map(([k, v]) => `<tr><th>${e(k)}</th><td><code>${e(v ?? '—')}</code></td></tr>`).join('')}
<tr><th>Seed</th><td>${record.seed}</td></tr>
<tr><th>Timings</th><td>${record.timings.totalMs.toFixed(0)} ms total · ${record.timings.modelMs.toFixed(0)} ms model · ${record.timings.retrievalMs.toFixed(0)} ms retrieval</td></tr></table>
<details><summary>Settings</summary><pre>${e(JSON.stringify(record.settings, null, 2))}</pre></details>
</body></html>
`;
  const stamp = record.startedAt.replace(/[:.]/g, '-');
  return { fileName: `medrwr-run-${stamp}-${record.runId.slice(0, 8)}.html`, html };
}
