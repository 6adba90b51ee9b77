/**
 * Writes models/bearing-rul-model.json: the RUL model of the simulator's gearbox bearing
 * that the demo flow's twin-rul node loads. Fitted (rul-trend, method auto) on 40 run-to-failure
 * histories of the simulator's own model (examples/plant-sim/wear-history.ts: days to failure 20..40, initial
 * wear 0..0.3, hourly vibration samples, failure = the PLC's vibration trip). Deterministic: the
 * same code gives the same file.
 *
 *   npx tsx scripts/make-bearing-model.ts [OUT.json]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fitTrendModel, type FittedTrendModel } from '../runtime/maintenance/rul-trend.js';
import { simWearHistories } from '../examples/plant-sim/wear-history.js';
import { assetPath } from '../examples/plant-sim/tags.js';

const DAY = 86_400_000;

export const BEARING_TRAINING = {
  units: 40,
  seed: 1,
  daysToFailure: [20, 40] as [number, number],
  initialWear: [0, 0.3] as [number, number],
  sampleIntervalMs: 3_600_000,
  tags: ['vibration'],
};

/** The model plus what a reader needs to wire it: the asset and the reading tag of each channel. */
export function makeBearingModel(): FittedTrendModel & { asset: string; units: Record<string, string>; trainedOn: string } {
  const histories = simWearHistories(BEARING_TRAINING);
  const model = fitTrendModel(histories, { rulCapMs: 14 * DAY, windowMs: 3 * DAY, seed: 1 });
  return {
    ...model,
    asset: assetPath(),
    units: { vibration: 'mm/s' },
    trainedOn:
      `plant-sim gearbox bearing: ${BEARING_TRAINING.units} run-to-failure histories (days to failure 20..40, ` +
      'initial wear 0..0.3, hourly vibration, failure = vibration trip); scripts/make-bearing-model.ts',
  };
}

if (require.main === module) {
  const out = process.argv[2] ?? join(__dirname, '..', 'models', 'bearing-rul-model.json');
  const m = makeBearingModel();
  writeFileSync(out, JSON.stringify(m, null, 2) + '\n');
  const rmse = Object.entries(m.oofRmseMs)
    .map(([k, v]) => `${k} ${(v / DAY).toFixed(2)} d`)
    .join(', ');
  process.stdout.write(
    `wrote ${out}: rul-trend ${m.method}, channels ${m.signals.channels.join(', ')}, asset ${m.asset}; out-of-fold RMSE ${rmse}\n`,
  );
}
