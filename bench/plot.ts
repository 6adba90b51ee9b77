/**
 * A dependency-free SVG bar chart of benchmark throughput: one group per suite, baseline bars
 * grey and TwinLoop bars blue, on a log scale so a 10 k/s and a 1 M/s case share one chart.
 */
import type { BenchRow } from './harness.js';

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function barChartSvg(rows: BenchRow[], title: string): string {
  const bars = rows.filter((r) => r.throughputPerS !== undefined && r.throughputPerS > 0);
  const rowH = 22;
  const labelW = 430;
  const plotW = 420;
  const top = 40;
  const h = top + bars.length * rowH + 40;
  const maxLog = Math.ceil(Math.log10(Math.max(10, ...bars.map((b) => b.throughputPerS!))));
  const x = (v: number) => (Math.max(0, Math.log10(Math.max(1, v))) / maxLog) * plotW;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + plotW + 120}" height="${h}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">${esc(title)} (per second, log scale)</text>`,
  ];
  for (let d = 0; d <= maxLog; d++) {
    const gx = labelW + (d / maxLog) * plotW;
    parts.push(`<line x1="${gx}" y1="${top - 5}" x2="${gx}" y2="${h - 30}" stroke="#ddd"/>`);
    parts.push(`<text x="${gx}" y="${h - 15}" text-anchor="middle" fill="#555">1e${d}</text>`);
  }
  bars.forEach((b, i) => {
    const y = top + i * rowH;
    const w = x(b.throughputPerS!);
    parts.push(`<text x="${labelW - 8}" y="${y + 14}" text-anchor="end">${esc(`${b.suite}: ${b.case}`.slice(0, 70))}</text>`);
    parts.push(
      `<rect x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 7}" fill="${b.baseline ? '#9e9e9e' : '#1f77b4'}"/>`,
    );
    parts.push(`<text x="${labelW + w + 5}" y="${y + 14}" fill="#333">${Math.round(b.throughputPerS!).toLocaleString('en-US')}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
