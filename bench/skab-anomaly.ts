/**
 * SKAB with the univariate anomaly detector (runtime/anomaly/detector.ts, global defaults chosen on
 * NAB, nothing fitted to SKAB): one detector per sensor (8), fed row by row from the first row; a
 * row is flagged when any sensor's condition holds (`unusual`, the point-wise view SKAB scores) —
 * the alarm edges (`anomalous`) give the change points for the NAB-style score. SKAB's protocol:
 * the first 400 rows of each file are not scored (here they are the detectors' learning period),
 * counts summed over files (bench/skab-score.ts); anomaly-free file: alarms per day.
 * Kept apart from bench/skab.ts (the multivariate T²/Q flow) so both can change independently.
 * Data: `../shared/data/skab` (TWINLOOP_SKAB_DIR), never copied. Run: `node dist/bench/run.js skab-anomaly`.
 */
import { existsSync } from 'node:fs';
import { AnomalyDetector, type AnomalyConfig } from '../runtime/anomaly/detector.js';
import { confusion, pointwise, risingEdges, type ConfusionCounts } from '../runtime/eval/point-metrics.js';
import { memory, type BenchRow } from './harness.js';
import { nabScore, type NabFile } from './skab-score.js';
import { loadSkab, skabDir, TAGS, type SkabFile } from './skab.js';

const SUITE = 'skab';
const FIT_ROWS = 400;

/** Point-wise flags (any sensor unusual) and alarm flags (any sensor's alarm edge) of the scored part. */
export function runAnomalyFile(f: SkabFile, cfg: Partial<AnomalyConfig> = {}): { flags: number[]; alarms: number[]; tsMs: number[] } {
  const dets = TAGS.map(() => new AnomalyDetector(cfg));
  const flags: number[] = [];
  const alarms: number[] = [];
  const tsMs: number[] = [];
  for (let i = 0; i < f.tsMs.length; i++) {
    let unusual = false;
    let alarm = false;
    for (let j = 0; j < TAGS.length; j++) {
      const o = dets[j].step(f.tsMs[i], f.values[i][j]);
      unusual ||= o.unusual;
      alarm ||= o.anomalous;
    }
    if (i < FIT_ROWS) continue;
    flags.push(unusual ? 1 : 0);
    alarms.push(alarm ? 1 : 0);
    tsMs.push(f.tsMs[i]);
  }
  return { flags, alarms, tsMs };
}

export async function run(): Promise<BenchRow[]> {
  const dir = skabDir();
  if (!existsSync(dir)) {
    process.stderr.write(`skab-anomaly: SKIPPED — no SKAB data at ${dir} (set TWINLOOP_SKAB_DIR)\n`);
    return [{ suite: SUITE, case: 'SKAB data missing', note: `no SKAB data at ${dir}` }];
  }
  const cfg = process.env.TWINLOOP_ANOMALY_CFG ? (JSON.parse(process.env.TWINLOOP_ANOMALY_CFG) as Partial<AnomalyConfig>) : {};
  const data = loadSkab(dir);
  const counts: ConfusionCounts[] = [];
  const nabFiles: NabFile[] = [];
  let rows = 0;
  const t0 = performance.now();
  for (const f of data.scored) {
    const r = runAnomalyFile(f, cfg);
    counts.push(confusion(f.anomaly.slice(FIT_ROWS), r.flags));
    const cps = f.tsMs.filter((_, i) => i >= FIT_ROWS && f.changepoint[i] === 1);
    nabFiles.push({ tsMs: r.tsMs, changePointsMs: cps, predictedMs: risingEdges(r.tsMs, r.alarms) });
    rows += f.tsMs.length;
  }
  const seconds = (performance.now() - t0) / 1000;
  const pw = pointwise(counts);
  const nab = nabScore(nabFiles, 60_000);
  let perDay = NaN;
  if (data.anomalyFree) {
    const r = runAnomalyFile(data.anomalyFree, cfg);
    perDay = risingEdges(r.tsMs, r.alarms).length / ((r.tsMs[r.tsMs.length - 1] - r.tsMs[0]) / 86_400_000);
  }
  const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
  const note =
    `F1 ${f2(pw.f1)} FAR ${f2(pw.farPct)} % MAR ${f2(pw.marPct)} % (point-wise: any sensor unusual); ` +
    `NAB std ${f2(nab.standard)} lowFP ${f2(nab.lowFp)} lowFN ${f2(nab.lowFn)} (alarm edges), missed ${nab.missed}/${nab.windows} CPs, ${nab.falsePositives} FP CPs; ` +
    `anomaly-free: ${f2(perDay)} alarms/day; ${data.scored.length} files; NAB-chosen defaults${process.env.TWINLOOP_ANOMALY_CFG ? ` + ${process.env.TWINLOOP_ANOMALY_CFG}` : ''}`;
  process.stdout.write(`skab-anomaly: ${note}\n`);
  return [
    {
      suite: SUITE,
      case: 'anomaly detector per sensor (8 × univariate, any)',
      count: rows,
      throughputPerS: rows / seconds,
      ...memory(),
      note,
    },
  ];
}

if (require.main === module) {
  void run().then((r) => process.stdout.write(JSON.stringify(r, null, 2) + '\n'));
}
