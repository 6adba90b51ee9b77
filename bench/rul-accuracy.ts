/**
 * RUL accuracy on NASA C-MAPSS FD001 (train_FD001.txt; its 100 engines split BY ENGINE): 5-fold
 * cross-validation through `twinloop fit` and `twinloop replay` (child processes, bench/rul-cv.ts),
 * each held-out engine cut at a random cycle as in NASA's test set. Per method: RMSE and PHM08
 * score in cycles (against the true RUL, and against the true RUL capped at 125 as the literature
 * scores it), P10-P90 coverage. Writes bench/results/rul-accuracy.{md,svg}.
 *
 *   node dist/bench/rul-accuracy.js [--seed 7] [--methods similarity,ols,trend] [--seeds 1,2,3 (extra seeds, mean RMSE)]
 *
 * Not part of `npm test`, nor (yet) of `npm run bench` (it exports no `run`).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readCmapss } from '../runtime/maintenance/cmapss.js';
import { seededShuffle } from '../runtime/maintenance/rul-model.js';
import { CMAPSS_CYCLE_MS } from '../bin/cmapss-to-csv.js';
import { prng } from './prng.js';
import { progress, progressDone } from './harness.js';
import { coverage, nasaCutRows, phm08, rmse, runFold, type CvCase } from './rul-cv.js';

// dist/bench → the project root; C-MAPSS FD001 is kept in the repository (US government data)
const CMAPSS_FILE = join(__dirname, '..', '..', 'test', 'fixtures', 'cmapss', 'train_FD001.txt');
const RESULTS_DIR = join(__dirname, '..', '..', 'bench', 'results');
const FOLDS = 5;
const CAP = 125;
const PUBLISHED = [
  ['OLS, RUL capped at 125', '21.9'],
  ['CNN (Sateesh Babu et al., 2016)', '18.45'],
  ['deep LSTM (Zheng et al., 2017)', '16.14'],
];

interface MethodResult {
  method: string;
  cases: CvCase[];
  error?: string;
  seconds: number;
  estimates: number;
  extraSeeds: Array<{ seed: number; rmse: number; coverage: number }>;
}

async function crossValidate(method: string, seed: number, dir: string, label: string): Promise<{ cases: CvCase[]; estimates: number }> {
  const units = readCmapss(CMAPSS_FILE, CMAPSS_CYCLE_MS);
  const order = seededShuffle(units, seed);
  // cuts drawn fold by fold, as test/unit/maintenance-rul.spec.ts draws them: the same cases
  const cut = prng(seed + 1000);
  const cases: CvCase[] = [];
  let estimates = 0;
  for (let k = 0; k < FOLDS; k++) {
    progress(`rul-accuracy: ${label} fold ${k + 1}/${FOLDS}`);
    const held = order.filter((_, i) => i % FOLDS === k);
    const r = await runFold({
      dir,
      fold: k,
      method,
      seed,
      capCycles: CAP,
      cycleMs: CMAPSS_CYCLE_MS,
      train: order.filter((_, i) => i % FOLDS !== k),
      held,
      cutRows: held.map((u) => nasaCutRows(u.values.length, cut())),
    });
    cases.push(...r.cases);
    estimates += r.estimates;
  }
  return { cases, estimates };
}

function scatterSvg(results: MethodResult[]): string {
  const ok = results.filter((r) => r.cases.length > 0);
  const size = 330,
    pad = 45,
    gap = 20;
  const w = ok.length * (size + gap) + pad,
    h = size + 2 * pad + 20;
  const max = 200;
  const sx = (v: number) => pad + (Math.min(v, max) / max) * (size - pad);
  const sy = (v: number) => size + pad - (Math.min(v, max) / max) * (size - pad);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="11">`,
    '<rect width="100%" height="100%" fill="white"/>',
  ];
  ok.forEach((r, p) => {
    const ox = p * (size + gap);
    parts.push(`<g transform="translate(${ox},0)">`);
    parts.push(
      `<text x="${pad}" y="20" font-size="13" font-weight="bold">${r.method}: RMSE ${rmse(r.cases).toFixed(1)}, P10–P90 covers ${(100 * coverage(r.cases)).toFixed(0)} %</text>`,
    );
    parts.push(`<line x1="${sx(0)}" y1="${sy(0)}" x2="${sx(max)}" y2="${sy(max)}" stroke="#999" stroke-dasharray="4 3"/>`);
    for (let t = 0; t <= max; t += 50) {
      parts.push(`<text x="${sx(t)}" y="${sy(0) + 14}" text-anchor="middle" fill="#555">${t}</text>`);
      parts.push(`<text x="${pad - 5}" y="${sy(t) + 4}" text-anchor="end" fill="#555">${t}</text>`);
    }
    parts.push(
      `<line x1="${sx(0)}" y1="${sy(0)}" x2="${sx(max)}" y2="${sy(0)}" stroke="#333"/><line x1="${sx(0)}" y1="${sy(0)}" x2="${sx(0)}" y2="${sy(max)}" stroke="#333"/>`,
    );
    parts.push(`<text x="${sx(max / 2)}" y="${sy(0) + 30}" text-anchor="middle">true RUL (cycles)</text>`);
    parts.push(`<text transform="translate(12,${sy(max / 2)}) rotate(-90)" text-anchor="middle">predicted RUL, P10–P90</text>`);
    for (const c of r.cases) {
      const inside = c.trueRul >= c.p10 && c.trueRul <= c.p90;
      const col = inside ? '#1f77b4' : '#d62728';
      parts.push(
        `<line x1="${sx(c.trueRul).toFixed(1)}" y1="${sy(c.p10).toFixed(1)}" x2="${sx(c.trueRul).toFixed(1)}" y2="${sy(c.p90).toFixed(1)}" stroke="${col}" stroke-opacity="0.35"/>`,
      );
      parts.push(`<circle cx="${sx(c.trueRul).toFixed(1)}" cy="${sy(c.pred).toFixed(1)}" r="2.5" fill="${col}"/>`);
    }
    parts.push('</g>');
  });
  parts.push(
    `<text x="${pad}" y="${h - 8}" fill="#555">FD001, 5-fold CV by engine, 100 engines cut at random (NASA-like); blue: truth inside P10–P90, red: outside. Axes clipped at ${max}.</text>`,
  );
  parts.push('</svg>');
  return parts.join('\n');
}

/** Mean RMSE and coverage over the main seed and the extra ones, with each seed's RMSE. */
function allSeeds(r: MethodResult, seed: number): string {
  if (r.extraSeeds.length === 0) return '';
  const all = [{ seed, rmse: rmse(r.cases), coverage: coverage(r.cases) }, ...r.extraSeeds];
  const mean = (k: 'rmse' | 'coverage') => all.reduce((s, x) => s + x[k], 0) / all.length;
  return `${mean('rmse').toFixed(2)}, ${(100 * mean('coverage')).toFixed(0)} % (RMSE by seed ${all.map((x) => `${x.seed}: ${x.rmse.toFixed(1)}`).join(', ')})`;
}

function markdown(results: MethodResult[], seed: number, command: string): string {
  const f = (n: number, d = 2) => n.toFixed(d);
  const rows = results.map((r) =>
    r.error
      ? `| ${r.method} | not available: ${r.error} | | | | | | |`
      : `| ${r.method} | ${f(rmse(r.cases))} | ${f(rmse(r.cases, CAP))} | ${f(phm08(r.cases), 0)} | ${f(phm08(r.cases, CAP), 0)} | ${(100 * coverage(r.cases)).toFixed(0)} % | ${r.cases.filter((c) => c.quality !== 'good').length} | ${allSeeds(r, seed)} |`,
  );
  return [
    '# RUL accuracy on C-MAPSS FD001',
    '',
    `Command: \`${command}\` (${new Date().toISOString().slice(0, 16)}Z)`,
    '',
    `5-fold cross-validation BY ENGINE on train_FD001.txt (100 engines; seed ${seed} for the folds and the cuts). Each fold: the`,
    '80 training engines are written as a plant CSV (engine, time, settings, s1..s21; 1 cycle = 1 hour) and fitted with',
    "`twinloop fit --kind rul --rul-cap 125`; the 20 held-out engines are each cut at a random cycle as in NASA's test set",
    '(true RUL uniform in 7..145 cycles, at least 31 cycles observed) and replayed with `twinloop replay` through',
    "twin-mqtt-in → twin-rul; the engine's last RulEstimate is the forecast. Errors in cycles, d = predicted − true.",
    '',
    '| method | RMSE | RMSE vs true RUL capped at 125 | PHM08 | PHM08 vs capped | P10–P90 coverage | estimates not good | mean over all seeds: RMSE, coverage |',
    '|---|---:|---:|---:|---:|---:|---:|---|',
    ...rows,
    '',
    "Published FD001 figures (NASA's 100 test engines, truth capped at 125):",
    '',
    '| model | RMSE |',
    '|---|---:|',
    ...PUBLISHED.map(([m, v]) => `| ${m} | ${v} |`),
    '',
    "Not the same test: the published figures score NASA's test set (test_FD001 + RUL_FD001, not in test/fixtures);",
    'these are out-of-fold cuts of the training engines with the same cut distribution. "capped" scores the forecast',
    'against min(true RUL, 125) as the literature does; the uncapped column is what a plant sees (every model here',
    'forecasts at most 125, so engines cut with more than 125 cycles left count against it).',
    '',
    '![predicted vs true RUL](rul-accuracy.svg)',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { seed: { type: 'string' }, methods: { type: 'string' }, seeds: { type: 'string' }, keep: { type: 'boolean' } },
  });
  const seed = Number(values.seed ?? 7);
  const methods = (values.methods ?? 'similarity,ols,trend').split(',').map((s) => s.trim());
  const extraSeeds = values.seeds ? values.seeds.split(',').map(Number) : [];
  if (!existsSync(CMAPSS_FILE)) throw new Error(`${CMAPSS_FILE} not found (test/fixtures/cmapss, in the repository)`);
  const dir = mkdtempSync(join(tmpdir(), 'rul-accuracy-'));
  const results: MethodResult[] = [];
  try {
    for (const method of methods) {
      const t0 = Date.now();
      try {
        const { cases, estimates } = await crossValidate(method, seed, dir, `${method} seed ${seed}`);
        const extra = [];
        for (const s of extraSeeds) {
          const r = await crossValidate(method, s, dir, `${method} seed ${s}`);
          extra.push({ seed: s, rmse: rmse(r.cases), coverage: coverage(r.cases) });
        }
        results.push({ method, cases, estimates, seconds: (Date.now() - t0) / 1000, extraSeeds: extra });
      } catch (err) {
        results.push({
          method,
          cases: [],
          estimates: 0,
          error: String((err as Error).message)
            .split('\n')[0]
            .slice(0, 200),
          seconds: (Date.now() - t0) / 1000,
          extraSeeds: [],
        });
      }
      progressDone();
      const r = results[results.length - 1];
      process.stderr.write(
        r.error
          ? `rul-accuracy: ${method}: ${r.error}\n`
          : `rul-accuracy: ${method}: RMSE ${rmse(r.cases).toFixed(2)} (capped ${rmse(r.cases, CAP).toFixed(2)}), PHM08 ${phm08(r.cases).toFixed(0)} (capped ${phm08(r.cases, CAP).toFixed(0)}), P10-P90 coverage ${(100 * coverage(r.cases)).toFixed(0)} %, ${r.estimates} estimates, ${r.seconds.toFixed(0)} s${r.extraSeeds.length ? `; other seeds RMSE ${r.extraSeeds.map((x) => x.rmse.toFixed(2)).join(', ')}` : ''}\n`,
      );
    }
  } finally {
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`rul-accuracy: files kept in ${dir}\n`);
  }
  const command = `node dist/bench/rul-accuracy.js ${process.argv.slice(2).join(' ')}`.trim();
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, 'rul-accuracy.md'), markdown(results, seed, command));
  writeFileSync(join(RESULTS_DIR, 'rul-accuracy.svg'), scatterSvg(results));
  process.stdout.write(markdown(results, seed, command));
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`rul-accuracy: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
