/**
 * A bill for one billing period from interval energy, under a compiled tariff.
 *
 * Proration: an interval's energy (and kvarh) is taken as spread evenly over [startMs, endMs), so
 * the part inside a price period, a demand block or the billing period is energy × (overlap / length).
 * Parts of an interval outside the billing period are left out (they belong to another bill).
 *
 * Demand: blocks of demandBlockMinutes laid from the billing period's startMs (bill from a local
 * midnight to keep them on the local quarter hours); a block's average power is its energy over the
 * FULL block length (missing data counts as zero, as a block meter would); the peak is the largest,
 * the earliest on a tie.
 *
 * Rounding: every line item is kept unrounded; only totalEur is rounded, once, to the cent, half
 * away from zero. So a rounded line item shown beside the total may differ from it by a cent.
 */
import { TwinError } from '../model/errors.js';
import { type Tariff, splitByPeriod } from './tariff.js';

export interface IntervalEnergy {
  startMs: number;
  endMs: number;
  /** active energy imported in the interval, ≥ 0 */
  energyKwh: number;
  /** inductive reactive energy in the interval, ≥ 0; missing = 0 */
  reactiveKvarh?: number;
}

export interface PeriodCharge {
  period: string;
  energyKwh: number;
  priceEurPerKwh: number;
  chargeEur: number;
}

export interface Bill {
  startMs: number;
  endMs: number;
  energyKwh: number;
  reactiveKvarh: number;
  /** one row per tariff period, in the tariff's order (zero rows included) */
  energyCharges: PeriodCharge[];
  energyChargeEur: number;
  demand: { blockMinutes: number; peakKw: number; peakBlockStartMs: number | null; peakBlockEndMs: number | null; chargeEur: number };
  powerFactor: { tanPhi: number | null; allowedKvarh: number; excessKvarh: number; penaltyEur: number } | null;
  fixedFeeEur: number;
  co2Kg: number;
  /** sum of the unrounded parts, rounded once to the cent (half away from zero) */
  totalEur: number;
}

/** Half away from zero to the cent; the 1e-9 absorbs binary noise such as 0.125 arriving as 0.12499999. */
export function roundToCent(eur: number): number {
  return (Math.sign(eur) * Math.round(Math.abs(eur) * 100 + 1e-9)) / 100;
}

function badInterval(i: number, msg: string): TwinError {
  return new TwinError('BAD_PAYLOAD', `bill: interval ${i + 1}: ${msg}`);
}

/** Each interval checked field by field (they arrive in a message): the first bad one is refused, naming it. */
function checkIntervals(input: unknown): IntervalEnergy[] {
  if (!Array.isArray(input)) throw new TwinError('BAD_PAYLOAD', 'bill: intervals must be an array');
  const intervals = (input as unknown[]).map((iv, i): IntervalEnergy => {
    // an array passes as an object here and fails on its missing startMs, as it always has
    if (!iv || typeof iv !== 'object') throw badInterval(i, 'not an object');
    const { startMs, endMs, energyKwh, reactiveKvarh: q } = iv as Record<string, unknown>;
    if (typeof startMs !== 'number' || typeof endMs !== 'number' || !Number.isFinite(startMs) || !Number.isFinite(endMs))
      throw new TwinError('BAD_TIMESTAMP', `bill: interval ${i + 1}: startMs and endMs must be finite epoch ms`);
    if (endMs <= startMs) throw new TwinError('BAD_TIMESTAMP', `bill: interval ${i + 1}: endMs ${endMs} is not after startMs ${startMs}`);
    if (typeof energyKwh !== 'number' || !Number.isFinite(energyKwh))
      throw new TwinError('NOT_FINITE', `bill: interval ${i + 1}: energyKwh must be a finite number, got ${JSON.stringify(energyKwh)}`);
    if (energyKwh < 0) throw badInterval(i, `negative energy ${energyKwh} kWh (export is not billed here)`);
    if (q !== undefined && (typeof q !== 'number' || !Number.isFinite(q)))
      throw new TwinError('NOT_FINITE', `bill: interval ${i + 1}: reactiveKvarh must be a finite number, got ${JSON.stringify(q)}`);
    if (q !== undefined && q < 0) throw badInterval(i, `negative reactive energy ${q} kvarh (only inductive kvarh is billed)`);
    return iv as IntervalEnergy; // every field it is read by checked above; the caller's object, as before
  });
  const sorted = [...intervals].sort((a, b) => a.startMs - b.startMs);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].startMs < sorted[i - 1].endMs) {
      throw new TwinError(
        'BAD_PAYLOAD',
        `bill: intervals overlap: [${new Date(sorted[i - 1].startMs).toISOString()}, ${new Date(sorted[i - 1].endMs).toISOString()}) and one starting ${new Date(sorted[i].startMs).toISOString()} (energy would count twice)`,
      );
    }
  }
  return sorted;
}

export function computeBill(tariff: Tariff, period: { startMs: number; endMs: number }, intervals: readonly IntervalEnergy[]): Bill {
  const { startMs, endMs } = period ?? ({} as { startMs: number; endMs: number });
  if (!Number.isFinite(startMs) || !Number.isFinite(endMs) || endMs <= startMs) {
    throw new TwinError('BAD_TIMESTAMP', `bill: billing period needs finite startMs < endMs, got ${startMs}..${endMs}`);
  }
  const sorted = checkIntervals(intervals);

  const kwhByPeriod = new Map<string, number>(tariff.periods.map((p) => [p.name, 0]));
  const blockMs = tariff.demandBlockMinutes * 60_000;
  const kwhByBlock = new Map<number, number>();
  let energyKwh = 0;
  let reactiveKvarh = 0;

  for (const iv of sorted) {
    const s = Math.max(iv.startMs, startMs);
    const e = Math.min(iv.endMs, endMs);
    if (e <= s) continue;
    const lengthMs = iv.endMs - iv.startMs;
    const kwhPerMs = iv.energyKwh / lengthMs;
    energyKwh += kwhPerMs * (e - s);
    reactiveKvarh += ((iv.reactiveKvarh ?? 0) / lengthMs) * (e - s);
    for (const seg of splitByPeriod(tariff, s, e)) {
      kwhByPeriod.set(seg.period.name, (kwhByPeriod.get(seg.period.name) ?? 0) + kwhPerMs * (seg.endMs - seg.startMs));
    }
    for (let b = Math.floor((s - startMs) / blockMs); startMs + b * blockMs < e; b++) {
      const bs = Math.max(s, startMs + b * blockMs);
      const be = Math.min(e, startMs + (b + 1) * blockMs);
      if (be > bs) kwhByBlock.set(b, (kwhByBlock.get(b) ?? 0) + kwhPerMs * (be - bs));
    }
  }

  const energyCharges = tariff.periods.map((p) => {
    const kwh = kwhByPeriod.get(p.name) ?? 0;
    return { period: p.name, energyKwh: kwh, priceEurPerKwh: p.priceEurPerKwh, chargeEur: kwh * p.priceEurPerKwh };
  });
  const energyChargeEur = energyCharges.reduce((sum, c) => sum + c.chargeEur, 0);

  let peakBlock: number | null = null;
  let peakKwh = 0;
  for (const [b, kwh] of [...kwhByBlock].sort((x, y) => x[0] - y[0])) {
    if (peakBlock === null || kwh > peakKwh) {
      peakBlock = b;
      peakKwh = kwh;
    }
  }
  const peakKw = peakKwh / (blockMs / 3_600_000);
  const demand = {
    blockMinutes: tariff.demandBlockMinutes,
    peakKw,
    peakBlockStartMs: peakBlock === null ? null : startMs + peakBlock * blockMs,
    peakBlockEndMs: peakBlock === null ? null : Math.min(endMs, startMs + (peakBlock + 1) * blockMs),
    chargeEur: peakKw * tariff.demandChargeEurPerKw,
  };

  let powerFactor: Bill['powerFactor'] = null;
  if (tariff.powerFactorPenalty) {
    const allowedKvarh = tariff.powerFactorPenalty.maxTanPhi * energyKwh;
    const excessKvarh = Math.max(0, reactiveKvarh - allowedKvarh);
    powerFactor = {
      tanPhi: energyKwh > 0 ? reactiveKvarh / energyKwh : null,
      allowedKvarh,
      excessKvarh,
      penaltyEur: excessKvarh * tariff.powerFactorPenalty.priceEurPerKvarh,
    };
  }

  const fixedFeeEur = tariff.fixedFeeEurPerPeriod;
  return {
    startMs,
    endMs,
    energyKwh,
    reactiveKvarh,
    energyCharges,
    energyChargeEur,
    demand,
    powerFactor,
    fixedFeeEur,
    co2Kg: energyKwh * tariff.co2KgPerKwh,
    totalEur: roundToCent(energyChargeEur + demand.chargeEur + (powerFactor?.penaltyEur ?? 0) + fixedFeeEur),
  };
}
