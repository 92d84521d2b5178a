import type { EvalDetail, EvalItemResult, ModeMetrics, Proportion, ReasoningMode } from '../../../shared/contract';
import type { EvalItem } from '../datasets/EvalItem';
import type { StoredEval } from '../EvalStore';
import { escapeHtml as e } from './escapeHtml';
import { accuracySvg, cdirFlipsSvg, modeColors, reliabilitySvg } from './svgCharts';

export interface ReportInput {
  detail: EvalDetail;
  evaluation: StoredEval;
  items: readonly EvalItem[];
  results: readonly EvalItemResult[];
  generatedAt: string;
}

const pct = (p: Proportion): string =>
  p.rate === null
    ? `<span class="muted">— (0)</span>`
    : `${(p.rate * 100).toFixed(1)}%<br><span class="count">${p.count}/${p.total}</span>${
        p.ci95 ? ` <span class="ci">[${(p.ci95[0] * 100).toFixed(1)}–${(p.ci95[1] * 100).toFixed(1)}]</span>` : ''
      }`;
const num = (v: number | null, digits = 3): string => (v === null ? '—' : v.toFixed(digits));
const ms = (v: number | null): string =>
  v === null ? '—' : v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${v.toFixed(0)} ms`;
const p = (v: number | null): string => (v === null ? '—' : v < 0.001 ? '< 0.001' : v.toFixed(3));
const modeCell = (m: ReasoningMode): string =>
  `<th scope="row"><span class="swatch" style="background:${modeColors[m]}"></span>${e(m)}</th>`;

/**
 * The evaluation as one self-contained HTML file: no script, no external resource (plots are inline SVG), so it can be
 * mailed to a committee and opened anywhere, and says exactly what was run (settings, model hashes, dataset hash).
 */
export function renderReport(input: ReportInput): string {
  const { detail, evaluation } = input;
  const { summary, metrics } = detail;
  const title = `Evaluation report — ${summary.dataset}`;
  const sections = [
    header(input),
    summaryTable(metrics.modes),
    section(
      'Accuracy per mode',
      `<figure>${accuracySvg(metrics.modes)}<figcaption>Bars: accuracy; whiskers: Wilson 95% interval; under each bar: correct/total.</figcaption></figure>`,
    ),
    pairedTable(detail),
    calibrationSection(metrics.modes),
    cdirSection(metrics.modes),
    retrievalSection(metrics.modes),
    questionTypeTable(metrics.modes),
    latencyTable(metrics.modes),
    datasetSection(detail, evaluation),
    settingsSection(detail, evaluation),
    itemsSection(input),
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)}</title>
<style>${css}</style></head>
<body>
${sections.join('\n')}
<footer>Generated ${e(input.generatedAt)} by Med-RwR reading station ${e(evaluation.environment['appVersion'] ?? '')} · evaluation ${e(summary.evalId)}</footer>
</body></html>
`;
}

function section(title: string, body: string, id?: string): string {
  return `<section${id ? ` id="${id}"` : ''}><h2>${e(title)}</h2>${body}</section>`;
}

function header({ detail, evaluation }: ReportInput): string {
  const s = detail.summary;
  const dry = s.dryRun
    ? `<p class="banner">DRY RUN — answers were scripted, not produced by a model. These numbers test the pipeline only and say nothing about any model.</p>`
    : '';
  const incomplete =
    s.resultsDone < s.resultsTotal
      ? `<p class="warning">Incomplete: ${s.resultsDone} of ${s.resultsTotal} results recorded (status ${e(s.status)}). Metrics cover the recorded results only; resume the evaluation to complete it.</p>`
      : '';
  const failed =
    s.failed > 0
      ? `<p class="warning">${s.failed} results failed to run and count as wrong (see the per-item table).</p>`
      : '';
  return `<header><h1>${e(`Evaluation report — ${s.dataset}`)}</h1>${dry}
<dl class="facts">
<dt>Label</dt><dd>${e(s.label ?? '—')}</dd>
<dt>Status</dt><dd>${e(s.status)}${s.error ? ` — ${e(s.error.code)}: ${e(s.error.message)}` : ''}</dd>
<dt>Items</dt><dd>${s.items} items × ${s.modes.length} modes (${s.modes.map(e).join(', ')}) = ${s.resultsTotal} results; ${s.resultsDone} recorded, ${s.failed} failed</dd>
<dt>Created</dt><dd>${e(s.createdAt)}${s.finishedAt ? ` · finished ${e(s.finishedAt)}` : ''}</dd>
<dt>Answered by</dt><dd>${e(detail.runner.description)}</dd>
<dt>Seed</dt><dd>${evaluation.seed} (the same for every item and mode)</dd>
</dl>${incomplete}${failed}</header>`;
}

function summaryTable(modes: readonly ModeMetrics[]): string {
  const rows = modes
    .map(
      (m) =>
        `<tr>${modeCell(m.mode)}<td>${pct(m.overall)}</td><td>${pct(m.closed)}</td><td>${pct(m.closedYesNo)}</td><td>${pct(
          m.closedChoice,
        )}</td><td>${pct(m.openExact)}</td><td>${m.openRecall.mean === null ? '—' : `${(m.openRecall.mean * 100).toFixed(1)}% <span class="count">n=${m.openRecall.items}</span>`}</td><td>${num(
          m.calibration.ece,
        )}</td><td>${pct(m.cdir.triggered)}</td><td>${m.retrieval.queriesPerItem === null ? '—' : m.retrieval.queriesPerItem.toFixed(2)}</td><td>${ms(
          m.latency.medianMs,
        )}</td><td>${m.failed}</td></tr>`,
    )
    .join('');
  return section(
    'Summary',
    `<div class="scroll"><table class="summary"><thead><tr><th>mode</th><th>overall</th><th>closed</th><th>closed yes/no</th><th>closed other</th><th>open exact</th><th>open recall</th><th>ECE</th><th>CDIR triggered</th><th>queries / item</th><th>median latency</th><th>failed</th></tr></thead><tbody>${rows}</tbody></table></div>
<p class="note">Percentages with counts and Wilson 95% intervals in brackets. "Overall" pools closed accuracy and open exact match. Open recall is the mean share of reference tokens found in the answer (not counted as correct).</p>`,
    'summary',
  );
}

function pairedTable(detail: EvalDetail): string {
  if (detail.metrics.paired.length === 0)
    return section('Paired comparison (McNemar)', '<p>Only one mode was run.</p>');
  const rows = detail.metrics.paired
    .map(
      (c) =>
        `<tr><td>${e(c.modeA)} vs ${e(c.modeB)}</td><td>${c.pairs}</td><td>${c.bothRight}</td><td>${c.onlyA}</td><td>${c.onlyB}</td><td>${c.bothWrong}</td><td>${e(
          c.method,
        )}</td><td>${c.statistic === null ? '—' : c.method === 'exact-binomial' ? `k = ${c.statistic}` : `χ² = ${c.statistic.toFixed(3)}`}</td><td>${p(c.pValue)}</td></tr>`,
    )
    .join('');
  return section(
    'Paired comparison (McNemar)',
    `<table><thead><tr><th>modes A vs B</th><th>pairs</th><th>both right</th><th>only A right (b)</th><th>only B right (c)</th><th>both wrong</th><th>test</th><th>statistic</th><th>p (two-sided)</th></tr></thead><tbody>${rows}</tbody></table>
<p class="note">Same items, same model, same seed. Below 25 discordant pairs (b + c) the exact two-sided binomial test is used (k = min(b, c)); from 25 on, χ² with continuity correction, (|b − c| − 1)² / (b + c), 1 degree of freedom. No correction for multiple comparisons is applied.</p>`,
  );
}

function calibrationSection(modes: readonly ModeMetrics[]): string {
  const figures = modes.map((m) => `<figure>${reliabilitySvg(m.mode, m.calibration)}</figure>`).join('');
  const row = (m: ModeMetrics, c: ModeMetrics['calibration'], label: string): string =>
    `<tr>${modeCell(m.mode)}<td>${e(label)}</td><td>${c.items}</td><td>${c.missing}</td><td>${num(c.ece)}</td><td>${num(c.mce)}</td><td>${num(c.brier)}</td></tr>`;
  const rows = modes
    .map((m) =>
      [
        row(m, m.calibration, `${m.calibration.confidenceSource} (used for CDIR)`),
        ...m.calibrationBySource
          .filter((c) => c.confidenceSource !== m.calibration.confidenceSource)
          .map((c) => row(m, c, c.confidenceSource)),
      ].join(''),
    )
    .join('');
  const binning = modes[0]?.calibration.binning ?? '';
  const bins = modes
    .map(
      (m) =>
        `<tr>${modeCell(m.mode)}${m.calibration.bins
          .map(
            (b) =>
              `<td>${b.count === 0 ? '·' : `${b.correct}/${b.count}<br><span class="muted">conf ${num(b.meanConfidence, 2)}</span>`}</td>`,
          )
          .join('')}</tr>`,
    )
    .join('');
  const binHeads = (modes[0]?.calibration.bins ?? [])
    .map((b) => `<th>(${b.lower.toFixed(1)}, ${b.upper.toFixed(1)}]</th>`)
    .join('');
  return section(
    'Confidence calibration',
    `<div class="figures">${figures}</div>
<p class="note">Binning: ${e(binning)}. Red boxes: the gap between accuracy and mean confidence in the bin. The confidence is the one the run compared against the CDIR threshold (the kept answer's).</p>
<table><thead><tr><th>mode</th><th>confidence</th><th>with it</th><th>without</th><th>ECE</th><th>MCE</th><th>Brier</th></tr></thead><tbody>${rows}</tbody></table>
<p class="note">first-token: probability of the first answer token under the model's full softmax (Med-RwR's confidence); option-mass: the normalised probability of the options at the answer position (closed questions with options). The diagrams show the confidence used for CDIR.</p>
<table class="bins"><thead><tr><th>mode</th>${binHeads}</tr></thead><tbody>${bins}</tbody></table>`,
  );
}

function cdirSection(modes: readonly ModeMetrics[]): string {
  const rows = modes
    .filter((m) => m.mode === 'rwr+cdir' || m.cdir.triggered.count > 0)
    .map(
      (m) =>
        `<tr>${modeCell(m.mode)}<td>${pct(m.cdir.triggered)}</td><td>${m.cdir.reattempted}</td><td>${m.cdir.wrongToRight}</td><td>${m.cdir.rightToWrong}</td><td>${m.cdir.unchangedRight}</td><td>${m.cdir.unchangedWrong}</td><td>${m.cdir.answerChanged}</td></tr>`,
    )
    .join('');
  return section(
    'Confidence-driven image re-retrieval (CDIR)',
    `<figure>${cdirFlipsSvg(modes)}</figure>
<table><thead><tr><th>mode</th><th>triggered</th><th>re-attempted</th><th>wrong → right</th><th>right → wrong</th><th>stayed right</th><th>stayed wrong</th><th>answer text changed</th></tr></thead><tbody>${
      rows || '<tr><td colspan="8">No mode with CDIR in this evaluation.</td></tr>'
    }</tbody></table>
<p class="note">Triggered: the first answer's confidence was below the threshold. Re-attempted: a similar case was found and the model reasoned again; flips compare the first attempt with the kept answer.</p>`,
  );
}

function retrievalSection(modes: readonly ModeMetrics[]): string {
  const rows = modes
    .map((m) => {
      const r = m.retrieval;
      const histogram = r.roundsHistogram.map((h) => `${h.rounds}: ${h.items}`).join(' · ') || '—';
      const sources =
        r.hitSources
          .slice(0, 8)
          .map((s) => `${e(s.source)} (${s.hits})`)
          .join(', ') || '—';
      return `<tr>${modeCell(m.mode)}<td>${pct(r.itemsWithQueries)}</td><td>${r.queriesTotal}</td><td>${num(r.queriesPerItem, 2)}</td><td>${num(
        r.roundsMean,
        2,
      )}</td><td>${histogram}</td><td>${r.hitsTotal}</td><td>${sources}</td></tr>`;
    })
    .join('');
  return section(
    'Retrieval',
    `<table><thead><tr><th>mode</th><th>results with a query</th><th>queries</th><th>queries / result</th><th>mean rounds</th><th>rounds: results</th><th>passages returned</th><th>hit sources (passages)</th></tr></thead><tbody>${rows}</tbody></table>`,
  );
}

function questionTypeTable(modes: readonly ModeMetrics[]): string {
  const types = [...new Set(modes.flatMap((m) => m.byQuestionType.map((t) => t.questionType)))].sort();
  if (types.length === 0) return '';
  const rows = types
    .map(
      (t) =>
        `<tr><th scope="row">${e(t)}</th>${modes
          .map((m) => {
            const found = m.byQuestionType.find((q) => q.questionType === t);
            return `<td>${found ? pct(found.accuracy) : '—'}</td>`;
          })
          .join('')}</tr>`,
    )
    .join('');
  return section(
    'Accuracy per question type',
    `<table><thead><tr><th>question type</th>${modes.map((m) => `<th>${e(m.mode)}</th>`).join('')}</tr></thead><tbody>${rows}</tbody></table>`,
  );
}

function latencyTable(modes: readonly ModeMetrics[]): string {
  const rows = modes
    .map(
      (m) =>
        `<tr>${modeCell(m.mode)}<td>${m.latency.items}</td><td>${ms(m.latency.meanMs)}</td><td>${ms(m.latency.medianMs)}</td><td>${ms(
          m.latency.p90Ms,
        )}</td><td>${ms(m.latency.minMs)}</td><td>${ms(m.latency.maxMs)}</td><td>${ms(m.latency.totalMs)}</td></tr>`,
    )
    .join('');
  return section(
    'Latency per item',
    `<table><thead><tr><th>mode</th><th>results</th><th>mean</th><th>median</th><th>p90</th><th>min</th><th>max</th><th>total</th></tr></thead><tbody>${rows}</tbody></table>
<p class="note">Wall time of one item in one mode, from the image check to the kept answer (quantiles by linear interpolation, type 7). Failed results are left out.</p>`,
  );
}

function datasetSection(detail: EvalDetail, evaluation: StoredEval): string {
  const d = evaluation.dataset;
  const r = detail.request;
  const selection = [
    r.sample ? `random sample of ${r.sample.size} (seed ${r.sample.seed}), in dataset order` : null,
    r.limit !== undefined ? `first ${r.limit}` : null,
  ]
    .filter(Boolean)
    .join(', then ');
  const problems = detail.problems
    .slice(0, 200)
    .map((q) => `<tr><td>${q.row}</td><td>${e(q.itemId ?? '—')}</td><td>${e(q.code)}</td><td>${e(q.message)}</td></tr>`)
    .join('');
  const more = detail.problems.length > 200 ? `<p class="note">… and ${detail.problems.length - 200} more.</p>` : '';
  return section(
    'Dataset',
    `<dl class="facts">
<dt>File</dt><dd><code>${e(d.path)}</code> (${e(d.format)})</dd>
<dt>sha256</dt><dd><code>${e(d.sha256)}</code></dd>
<dt>Images</dt><dd><code>${e(d.imagesDir)}</code> (every image's sha256 is recorded with its item and checked before it runs)</dd>
<dt>Rows</dt><dd>${d.rows} rows read, ${detail.problems.length} not usable${d.skipped.map((s) => `, ${s.rows} skipped (${e(s.reason)})`).join('')}</dd>
<dt>Selection</dt><dd>${e(selection || 'every valid item')} → ${evaluation.itemCount} items</dd>
</dl>
${
  detail.problems.length > 0
    ? `<details><summary>${detail.problems.length} rows not used</summary><table><thead><tr><th>row</th><th>id</th><th>code</th><th>reason</th></tr></thead><tbody>${problems}</tbody></table>${more}</details>`
    : '<p class="note">Every row was usable.</p>'
}`,
  );
}

function settingsSection(detail: EvalDetail, evaluation: StoredEval): string {
  const models = detail.runner.models
    .map(
      (m) =>
        `<tr><td>${e(m.role)}</td><td>${e(m.name)}</td><td><code>${e(m.sha256)}</code></td><td>${m.sizeBytes.toLocaleString('en')}</td></tr>`,
    )
    .join('');
  const env = Object.entries(evaluation.environment)
    .map(([k, v]) => `<dt>${e(k)}</dt><dd>${e(v)}</dd>`)
    .join('');
  return section(
    'Settings and hashes',
    `<dl class="facts"><dt>Runner</dt><dd>${e(detail.runner.kind)} — ${e(detail.runner.description)}</dd>
<dt>Knowledge base</dt><dd>${e(detail.runner.knowledgeBase ?? '—')}</dd>${env}</dl>
${models ? `<table><thead><tr><th>role</th><th>model</th><th>sha256</th><th>bytes</th></tr></thead><tbody>${models}</tbody></table>` : '<p class="note">No model files (scripted runner).</p>'}
<h3>Scoring</h3><ul>${detail.metrics.scoring.map((s) => `<li>${e(s)}</li>`).join('')}</ul>
<h3>Settings (frozen when the evaluation was created)</h3><pre>${e(JSON.stringify(detail.settings, null, 2))}</pre>
<h3>Request</h3><pre>${e(JSON.stringify(detail.request, null, 2))}</pre>`,
  );
}

function itemsSection({ detail, items, results }: ReportInput): string {
  const modes = detail.summary.modes;
  const byItem = new Map<number, Map<ReasoningMode, EvalItemResult>>();
  for (const r of results) {
    const row = byItem.get(r.itemIndex) ?? new Map<ReasoningMode, EvalItemResult>();
    row.set(r.mode, r);
    byItem.set(r.itemIndex, row);
  }
  const cell = (r: EvalItemResult | undefined): string => {
    if (!r) return '<td class="muted">not run</td>';
    if (r.status === 'failed') return `<td class="failed">failed: ${e(r.error?.code ?? '')}</td>`;
    const mark = r.correct ? '<span class="ok">✓</span>' : '<span class="bad">✗</span>';
    const conf =
      r.confidence?.used === null || r.confidence?.used === undefined
        ? ''
        : ` <span class="muted">${r.confidence.used.toFixed(2)}</span>`;
    const cdir = r.cdirTriggered
      ? ` <span class="tag" title="first attempt: ${e(r.firstAnswer ?? '—')}">CDIR</span>`
      : '';
    return `<td>${mark} ${e(r.answer ?? '—')}${conf}${cdir}</td>`;
  };
  const rows = items
    .map((item, index) => {
      const byMode = byItem.get(index);
      return `<tr><td>${e(item.id)}</td><td>${e(item.question)}</td><td>${e(item.answer)}</td><td>${e(item.answerType)}</td>${modes
        .map((m) => cell(byMode?.get(m)))
        .join('')}</tr>`;
    })
    .join('');
  return section(
    'Per-item results',
    `<details open><summary>${items.length} items</summary><table class="items"><thead><tr><th>id</th><th>question</th><th>reference</th><th>type</th>${modes
      .map((m) => `<th>${e(m)}</th>`)
      .join('')}</tr></thead><tbody>${rows}</tbody></table></details>
<p class="note">✓/✗: scored correct/wrong; the number is the confidence; CDIR marks a triggered re-retrieval (hover for the first answer). The CSV/JSONL export holds every field.</p>`,
    'items',
  );
}

const css = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2327;margin:0 auto;max-width:1180px;padding:24px}
h1{font-size:22px;margin:0 0 8px}h2{font-size:17px;border-bottom:1px solid #ccd;padding-bottom:4px;margin-top:32px}h3{font-size:14px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}th,td{border:1px solid #d5d8dc;padding:4px 7px;text-align:left;vertical-align:top}
thead th{background:#eef1f4}.scroll{overflow-x:auto}th[scope=row]{white-space:nowrap}.count{color:#444;font-size:12px}.ci{color:#777;font-size:11px;white-space:nowrap}
.muted{color:#888}.note{color:#555;font-size:12px;max-width:900px}.banner{background:#b3261e;color:#fff;padding:10px 14px;font-weight:700;border-radius:4px}
.warning{background:#fff4e5;border:1px solid #f0b35a;padding:8px 12px;border-radius:4px}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:3px 14px;margin:8px 0}.facts dt{font-weight:600}.facts dd{margin:0}
.swatch{display:inline-block;width:10px;height:10px;margin-right:6px;border-radius:2px}
.figures{display:flex;flex-wrap:wrap;gap:12px}figure{margin:8px 0}figcaption{font-size:12px;color:#555}
.ok{color:#1e7d4f;font-weight:700}.bad{color:#b3261e;font-weight:700}.failed{color:#b3261e}.tag{background:#d9822b;color:#fff;border-radius:3px;padding:0 4px;font-size:11px}
.items td:nth-child(2){max-width:360px}.bins td{text-align:center;font-size:11px}pre{background:#f6f8fa;padding:10px;overflow:auto;font-size:12px}
footer{margin-top:40px;color:#777;font-size:12px}
@media print{details{display:block}body{max-width:none}}
`;
