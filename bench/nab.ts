/**
 * NAB (Numenta Anomaly Benchmark) validation of the default anomaly detector
 * (runtime/anomaly/detector.ts) with NAB's protocol: each stream seen once, one row at a time, no
 * lookahead, one fresh detector per file with the same global defaults; a row is a detection when
 * the detector says `anomalous`; scored by runtime/eval/nab-score.ts (a port of NAB's sweeper) in
 * all three profiles, normalised over all files together. Also the detector's throughput alone.
 *
 * Data: `../shared/data/nab` beside the project (TWINLOOP_NAB_DIR overrides); skipped with one line
 * when absent. Writes bench/results/nab.md and nab.svg.
 * Run alone: `node dist/bench/run.js nab` after a build, or `npx tsx bench/nab.ts`.
 * TWINLOOP_NAB_CFG='{"holdOffSamples":100}' overrides defaults (for exploring, not for the record).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AnomalyDetector, type AnomalyConfig } from '../runtime/anomaly/detector.js';
import {
  NAB_PROFILES,
  NAB_PROFILE_NAMES,
  nabNormalise,
  nabRows,
  nabScoreFile,
  nabTimeMs,
  type NabFileScore,
  type NabProfileName,
} from '../runtime/eval/nab-score.js';
import { eventMetrics, sumEvents, type EventMetrics } from '../runtime/eval/point-metrics.js';
import { measureBatches, batchRow, type BenchRow } from './harness.js';

const SUITE = 'nab';

export interface NabData {
  name: string;
  category: string;
  tsMs: Float64Array;
  values: Float64Array;
  windows: [number, number][];
}

function projectRoot(): string {
  let d = __dirname;
  while (!existsSync(join(d, 'package.json')) && dirname(d) !== d) d = dirname(d);
  return d;
}

export function nabDir(): string {
  return process.env.TWINLOOP_NAB_DIR ?? join(projectRoot(), '..', 'shared', 'data', 'nab');
}

/** Every CSV of a NAB-layout folder (`<category>/<file>.csv` + `combined_windows.json`). */
export function loadNab(dir = nabDir()): NabData[] {
  const labels = JSON.parse(readFileSync(join(dir, 'combined_windows.json'), 'utf8')) as Record<string, [string, string][]>;
  const out: NabData[] = [];
  for (const category of readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()) {
    for (const file of readdirSync(join(dir, category))
      .filter((f) => f.endsWith('.csv'))
      .sort()) {
      const name = `${category}/${file}`;
      const lines = readFileSync(join(dir, category, file), 'utf8')
        .split(/\r?\n/)
        .filter((l) => l.trim() !== '');
      const tsMs = new Float64Array(lines.length - 1);
      const values = new Float64Array(lines.length - 1);
      for (let i = 1; i < lines.length; i++) {
        const c = lines[i].split(',');
        tsMs[i - 1] = nabTimeMs(c[0]);
        values[i - 1] = Number(c[1]);
      }
      const windows = (labels[name] ?? []).map(([a, b]) => [nabTimeMs(a), nabTimeMs(b)] as [number, number]);
      out.push({ name, category, tsMs, values, windows });
    }
  }
  return out;
}

/** Runs a fresh detector over one file, row by row; returns 1/0 per row. */
export function detectFile(f: NabData, cfg: Partial<AnomalyConfig> = {}): Uint8Array {
  const d = new AnomalyDetector(cfg);
  const out = new Uint8Array(f.values.length);
  for (let i = 0; i < f.values.length; i++) out[i] = d.step(f.tsMs[i], f.values[i]).anomalous ? 1 : 0;
  return out;
}

export interface NabRun {
  scores: Record<NabProfileName, number>;
  byCategory: Record<string, Record<NabProfileName, number>>;
  files: { name: string; standard: NabFileScore; detections: number }[];
  detections: number;
  /** Alarms (rising edges) after the probationary period, against the windows. */
  events: EventMetrics;
}

export function scoreNab(data: NabData[], cfg: Partial<AnomalyConfig> = {}): NabRun {
  const per: Record<NabProfileName, { cat: string; s: NabFileScore }[]> = { standard: [], reward_low_FP_rate: [], reward_low_FN_rate: [] };
  const files: NabRun['files'] = [];
  let detections = 0;
  const events: EventMetrics[] = [];
  for (const f of data) {
    const det = detectFile(f, cfg);
    const rows = nabRows(f.tsMs, f.windows);
    let from = 0;
    while (from < rows.window.length && rows.window[from] === -2) from++;
    events.push(eventMetrics(f.tsMs.subarray(from), det.subarray(from), f.windows));
    let nDet = 0;
    for (let i = 0; i < det.length; i++) if (det[i] && rows.window[i] !== -2) nDet++;
    detections += nDet;
    for (const p of NAB_PROFILE_NAMES) per[p].push({ cat: f.category, s: nabScoreFile(rows, det, NAB_PROFILES[p]) });
    files.push({ name: f.name, standard: per.standard[per.standard.length - 1].s, detections: nDet });
  }
  const scores = {} as Record<NabProfileName, number>;
  const byCategory: NabRun['byCategory'] = {};
  for (const p of NAB_PROFILE_NAMES) {
    scores[p] = nabNormalise(
      per[p].map((x) => x.s),
      NAB_PROFILES[p],
    );
    for (const cat of new Set(per[p].map((x) => x.cat))) {
      byCategory[cat] ??= {} as Record<NabProfileName, number>;
      byCategory[cat][p] = nabNormalise(
        per[p].filter((x) => x.cat === cat).map((x) => x.s),
        NAB_PROFILES[p],
      );
    }
  }
  return { scores, byCategory, files, detections, events: sumEvents(events) };
}

const PUBLISHED: [string, number][] = [
  ['ARTime', 77.0],
  ['CAD OSE', 75.4],
  ['Numenta HTM', 73.0],
  ['KNN CAD', 60.5],
  ['Windowed Gaussian', 44.8],
  ['twin-drift defaults (ADWIN + classification), before', 8.9],
  ['null', 0],
];

function barsSvg(bars: [string, number, boolean][], title: string): string {
  const rowH = 22;
  const labelW = 360;
  const plotW = 400;
  const top = 40;
  const h = top + bars.length * rowH + 20;
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + plotW + 80}" height="${h}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
  bars.forEach(([label, v, ours], i) => {
    const y = top + i * rowH;
    const w = (Math.max(0, v) / 100) * plotW;
    parts.push(`<text x="${labelW - 8}" y="${y + 14}" text-anchor="end">${esc(label)}</text>`);
    parts.push(`<rect x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 7}" fill="${ours ? '#1f77b4' : '#9e9e9e'}"/>`);
    parts.push(`<text x="${labelW + w + 5}" y="${y + 14}" fill="#333">${v.toFixed(1)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

export async function run(): Promise<BenchRow[]> {
  const dir = nabDir();
  if (!existsSync(join(dir, 'combined_windows.json'))) {
    process.stderr.write(`nab: SKIPPED — no NAB data at ${dir} (set TWINLOOP_NAB_DIR)\n`);
    return [{ suite: SUITE, case: 'skipped', note: `no NAB data at ${dir}` }];
  }
  const cfg = process.env.TWINLOOP_NAB_CFG ? (JSON.parse(process.env.TWINLOOP_NAB_CFG) as Partial<AnomalyConfig>) : {};
  const data = loadNab(dir);
  const r = scoreNab(data, cfg);
  // throughput of the detector alone over all files back to back
  const all = data.reduce((n, f) => n + f.values.length, 0);
  const ts = new Float64Array(all);
  const vs = new Float64Array(all);
  let o = 0;
  for (const f of data) {
    ts.set(f.tsMs, o);
    vs.set(f.values, o);
    o += f.values.length;
  }
  let det = new AnomalyDetector(cfg);
  const m = measureBatches(
    3000,
    all,
    1000,
    () => (det = new AnomalyDetector(cfg)),
    (lo, hi) => {
      let k = 0;
      for (let i = lo; i < hi && i < all; i++) if (det.step(ts[i], vs[i]).anomalous) k++;
      return k;
    },
  );
  const fmt = (x: number) => x.toFixed(1);
  const stamp = new Date().toISOString();
  const cats = Object.keys(r.byCategory).sort();
  const md = [
    `# NAB, development subset (${data.length} files, ${data.reduce((n, f) => n + f.windows.length, 0)} windows)`,
    '',
    `Measured ${stamp} with \`node dist/bench/run.js nab\`${process.env.TWINLOOP_NAB_CFG ? ` and TWINLOOP_NAB_CFG=${process.env.TWINLOOP_NAB_CFG}` : ''}.`,
    'Detector: runtime/anomaly/detector.ts with its global defaults (one fresh detector per file, one row at a time, no lookahead);',
    'scorer: runtime/eval/nab-score.ts (port of NAB 1.x sweeper, fixed threshold, probationary 15 % ≤ 750 rows).',
    'The defaults were chosen on these same 51 files (a few global values each, never per file or category; the header of',
    'runtime/anomaly/detector.ts lists which): this is a development score, the held-out category and plant data are the test.',
    '',
    '| profile | score |',
    '|---|---:|',
    ...NAB_PROFILE_NAMES.map((p) => `| ${p} | ${fmt(r.scores[p])} |`),
    '',
    `Detections (scored rows): ${r.detections}. After the probationary period: ${r.events.caught} of ${r.events.windows} windows caught, ` +
      `mean delay from window start ${(r.events.meanDelayMs / 3_600_000).toFixed(1)} h; ` +
      `${r.events.falseAlarms} alarms outside windows over ${r.events.days.toFixed(0)} stream-days ` +
      `(${r.events.falseAlarmsPerDay.toFixed(2)} per day; ${r.events.alarmsPerDay.toFixed(2)} alarms per day in all).`,
    '',
    `Throughput of the detector alone: ${Math.round(m.perS).toLocaleString('en-US')} samples/s.`,
    '',
    '| category | standard | reward_low_FP_rate | reward_low_FN_rate |',
    '|---|---:|---:|---:|',
    ...cats.map((c) => {
      const inCat = r.files.filter((f) => f.name.startsWith(`${c}/`));
      if (inCat.every((f) => f.standard.windows === 0)) {
        return `| ${c} | no windows: ${inCat.reduce((n, f) => n + f.detections, 0)} detections (each costs A_FP) | | |`;
      }
      return `| ${c} | ${fmt(r.byCategory[c].standard)} | ${fmt(r.byCategory[c].reward_low_FP_rate)} | ${fmt(r.byCategory[c].reward_low_FN_rate)} |`;
    }),
    '',
    'Per file (standard profile): windows detected / labelled, detections outside windows, raw score.',
    '',
    '| file | detected | FP rows | raw |',
    '|---|---:|---:|---:|',
    ...r.files.map(
      (f) => `| ${f.name} | ${f.standard.detectedWindows}/${f.standard.windows} | ${f.standard.fpRows} | ${f.standard.score.toFixed(2)} |`,
    ),
    '',
    'Published (standard profile, same 51 files, from shared/data/nab/README.md): ' +
      PUBLISHED.map(([n, v]) => `${n} ${v}`).join(', ') +
      '.',
    '',
  ].join('\n');
  const resultsDir = join(projectRoot(), 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  if (!process.env.TWINLOOP_NAB_CFG) {
    writeFileSync(join(resultsDir, 'nab.md'), md);
    const bars: [string, number, boolean][] = [
      ['TwinLoop anomaly detector (defaults)', r.scores.standard, true],
      ...PUBLISHED.map(([n, v]) => [n, v, false] as [string, number, boolean]),
    ];
    bars.sort((a, b) => b[1] - a[1]);
    writeFileSync(join(resultsDir, 'nab.svg'), barsSvg(bars, `NAB standard profile, 51 development files — ${stamp.slice(0, 10)}`));
  } else process.stdout.write(md);
  const note = NAB_PROFILE_NAMES.map((p) => `${p} ${fmt(r.scores[p])}`).join(', ');
  return [batchRow(SUITE, 1000, 'anomaly detector (defaults), all 51 files', m, {}, `NAB ${note}; ${r.detections} detections`)];
}

if (require.main === module) {
  void run().then((rows) => process.stdout.write(JSON.stringify(rows, null, 2) + '\n'));
}
