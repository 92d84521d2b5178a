import type { CalibrationReport, ModeMetrics, Proportion, ReasoningMode } from '../../../shared/contract';
import { escapeHtml } from './escapeHtml';

/** One colour per mode, the same in every plot and table of the report. */
export const modeColors: Record<ReasoningMode, string> = {
  direct: '#5b7083',
  rwr: '#1f8a70',
  'rwr+cdir': '#d9822b',
};

const font = 'font-family="system-ui, sans-serif"';
const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toFixed(digits) : '');

/**
 * Reliability diagram: per confidence bin, the observed accuracy as a bar against the diagonal of perfect calibration,
 * the gap to the bin's mean confidence in red, and the number of results under each bar.
 */
export function reliabilitySvg(mode: ReasoningMode, calibration: CalibrationReport): string {
  const size = 240;
  const left = 40;
  const top = 24;
  const bottom = 44;
  const width = left + size + 12;
  const height = top + size + bottom;
  const x = (v: number): number => left + v * size;
  const y = (v: number): number => top + (1 - v) * size;
  const parts: string[] = [];
  parts.push(`<rect x="${left}" y="${top}" width="${size}" height="${size}" fill="#fafafa" stroke="#999"/>`);
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line x1="${x(0)}" y1="${fmt(y(t), 1)}" x2="${x(1)}" y2="${fmt(y(t), 1)}" stroke="#e4e4e4"/>`);
    parts.push(`<text x="${left - 4}" y="${fmt(y(t) + 4, 1)}" text-anchor="end" font-size="10" ${font}>${t}</text>`);
    parts.push(
      `<text x="${fmt(x(t), 1)}" y="${top + size + 14}" text-anchor="middle" font-size="10" ${font}>${t}</text>`,
    );
  }
  for (const bin of calibration.bins) {
    if (bin.count === 0 || bin.accuracy === null || bin.meanConfidence === null) continue;
    const bx = x(bin.lower) + 1;
    const bw = (bin.upper - bin.lower) * size - 2;
    parts.push(
      `<rect class="bar" x="${fmt(bx, 1)}" y="${fmt(y(bin.accuracy), 1)}" width="${fmt(bw, 1)}" height="${fmt(
        bin.accuracy * size,
        1,
      )}" fill="${modeColors[mode]}" fill-opacity="0.85"><title>(${bin.lower.toFixed(1)}, ${bin.upper.toFixed(
        1,
      )}]: ${bin.correct}/${bin.count} correct, mean confidence ${bin.meanConfidence.toFixed(3)}</title></rect>`,
    );
    const gapTop = Math.max(bin.accuracy, bin.meanConfidence);
    const gapBottom = Math.min(bin.accuracy, bin.meanConfidence);
    if (gapTop - gapBottom > 0.002) {
      parts.push(
        `<rect x="${fmt(bx, 1)}" y="${fmt(y(gapTop), 1)}" width="${fmt(bw, 1)}" height="${fmt(
          (gapTop - gapBottom) * size,
          1,
        )}" fill="#c0392b" fill-opacity="0.25" stroke="#c0392b" stroke-width="0.5"/>`,
      );
    }
    parts.push(
      `<text x="${fmt(bx + bw / 2, 1)}" y="${top + size + 26}" text-anchor="middle" font-size="8" fill="#555" ${font}>${bin.count}</text>`,
    );
  }
  parts.push(`<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="#333" stroke-dasharray="4 3"/>`);
  const ece = calibration.ece === null ? 'n/a' : calibration.ece.toFixed(3);
  parts.push(
    `<text x="${left}" y="14" font-size="12" font-weight="600" ${font}>${escapeHtml(mode)} — ECE ${ece} (n = ${calibration.items})</text>`,
    `<text x="${left + size / 2}" y="${height - 4}" text-anchor="middle" font-size="10" ${font}>confidence (counts per bin above)</text>`,
    `<text transform="translate(10 ${top + size / 2}) rotate(-90)" text-anchor="middle" font-size="10" ${font}>accuracy</text>`,
  );
  return svg(width, height, `Reliability diagram, ${mode}`, parts);
}

/** Grouped bars: overall, closed and open exact-match accuracy per mode, with Wilson 95% whiskers and counts. */
export function accuracySvg(modes: readonly ModeMetrics[]): string {
  const groups: { label: string; pick: (m: ModeMetrics) => Proportion }[] = [
    { label: 'overall', pick: (m) => m.overall },
    { label: 'closed', pick: (m) => m.closed },
    { label: 'open (exact)', pick: (m) => m.openExact },
  ];
  const plotHeight = 200;
  const left = 40;
  const top = 16;
  const barWidth = 36;
  const groupWidth = modes.length * (barWidth + 6) + 30;
  const width = left + groups.length * groupWidth + 10;
  const height = top + plotHeight + 70;
  const y = (v: number): number => top + (1 - v) * plotHeight;
  const parts: string[] = [];
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line x1="${left}" y1="${fmt(y(t), 1)}" x2="${width - 10}" y2="${fmt(y(t), 1)}" stroke="#e4e4e4"/>`);
    parts.push(
      `<text x="${left - 4}" y="${fmt(y(t) + 4, 1)}" text-anchor="end" font-size="10" ${font}>${t * 100}%</text>`,
    );
  }
  groups.forEach((group, g) => {
    const gx = left + g * groupWidth + 15;
    modes.forEach((m, i) => {
      const p = group.pick(m);
      const bx = gx + i * (barWidth + 6);
      if (p.rate === null) {
        parts.push(
          `<text x="${bx + barWidth / 2}" y="${y(0) - 4}" text-anchor="middle" font-size="9" ${font}>n/a</text>`,
        );
        return;
      }
      parts.push(
        `<rect class="bar" x="${bx}" y="${fmt(y(p.rate), 1)}" width="${barWidth}" height="${fmt(
          p.rate * plotHeight,
          1,
        )}" fill="${modeColors[m.mode]}"><title>${escapeHtml(m.mode)} ${group.label}: ${p.count}/${p.total}</title></rect>`,
      );
      if (p.ci95) {
        const cx = bx + barWidth / 2;
        parts.push(
          `<line x1="${cx}" y1="${fmt(y(p.ci95[0]), 1)}" x2="${cx}" y2="${fmt(y(p.ci95[1]), 1)}" stroke="#222"/>`,
          `<line x1="${cx - 5}" y1="${fmt(y(p.ci95[0]), 1)}" x2="${cx + 5}" y2="${fmt(y(p.ci95[0]), 1)}" stroke="#222"/>`,
          `<line x1="${cx - 5}" y1="${fmt(y(p.ci95[1]), 1)}" x2="${cx + 5}" y2="${fmt(y(p.ci95[1]), 1)}" stroke="#222"/>`,
        );
      }
      parts.push(
        `<text x="${bx + barWidth / 2}" y="${y(0) + 12}" text-anchor="middle" font-size="9" ${font}>${p.count}/${p.total}</text>`,
        `<text x="${bx + barWidth / 2}" y="${y(0) + 23}" text-anchor="middle" font-size="9" ${font}>${fmt(p.rate * 100, 1)}%</text>`,
      );
    });
    parts.push(
      `<text x="${gx + (modes.length * (barWidth + 6)) / 2 - 3}" y="${y(0) + 40}" text-anchor="middle" font-size="11" font-weight="600" ${font}>${group.label}</text>`,
    );
  });
  parts.push(
    legend(
      modes.map((m) => m.mode),
      left,
      height - 10,
    ),
  );
  return svg(width, height, 'Accuracy per mode with Wilson 95% intervals', parts);
}

/** Per mode that ran CDIR: how second attempts changed correctness (wrong→right, right→wrong, unchanged). */
export function cdirFlipsSvg(modes: readonly ModeMetrics[]): string {
  const rows = modes.filter((m) => m.cdir.triggered.count > 0 || m.mode === 'rwr+cdir');
  const categories: { label: string; color: string; pick: (m: ModeMetrics) => number }[] = [
    { label: 'wrong → right', color: '#2e8b57', pick: (m) => m.cdir.wrongToRight },
    { label: 'right → wrong', color: '#c0392b', pick: (m) => m.cdir.rightToWrong },
    { label: 'stayed right', color: '#9ccfb5', pick: (m) => m.cdir.unchangedRight },
    { label: 'stayed wrong', color: '#e3a6a0', pick: (m) => m.cdir.unchangedWrong },
  ];
  const left = 110;
  const barHeight = 22;
  const plotWidth = 360;
  const top = 10;
  const width = left + plotWidth + 60;
  const max = Math.max(1, ...rows.flatMap((m) => categories.map((c) => c.pick(m))));
  const parts: string[] = [];
  let cy = top;
  if (rows.length === 0) {
    parts.push(`<text x="10" y="24" font-size="12" ${font}>No mode with CDIR in this evaluation.</text>`);
  }
  for (const m of rows) {
    parts.push(
      `<text x="4" y="${cy + 10}" font-size="11" font-weight="600" ${font}>${escapeHtml(m.mode)}: triggered ${m.cdir.triggered.count}/${m.cdir.triggered.total}, re-attempted ${m.cdir.reattempted}</text>`,
    );
    cy += 14;
    for (const c of categories) {
      const value = c.pick(m);
      const w = (value / max) * plotWidth;
      parts.push(
        `<text x="${left - 6}" y="${cy + barHeight / 2 + 4}" text-anchor="end" font-size="11" ${font}>${c.label}</text>`,
        `<rect class="bar" x="${left}" y="${cy}" width="${fmt(Math.max(w, 0.5), 1)}" height="${barHeight}" fill="${c.color}"><title>${c.label}: ${value}</title></rect>`,
        `<text x="${fmt(left + w + 5, 1)}" y="${cy + barHeight / 2 + 4}" font-size="11" ${font}>${value}</text>`,
      );
      cy += barHeight + 4;
    }
  }
  return svg(width, Math.max(40, cy + 6), 'CDIR flips', parts);
}

function legend(modes: readonly ReasoningMode[], x: number, y: number): string {
  return modes
    .map(
      (m, i) =>
        `<rect x="${x + i * 110}" y="${y - 9}" width="10" height="10" fill="${modeColors[m]}"/><text x="${
          x + i * 110 + 14
        }" y="${y}" font-size="11" ${font}>${escapeHtml(m)}</text>`,
    )
    .join('');
}

function svg(width: number, height: number, title: string, parts: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(
    title,
  )}"><title>${escapeHtml(title)}</title>${parts.join('')}</svg>`;
}
