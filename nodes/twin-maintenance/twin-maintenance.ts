/**
 * twin-maintenance: ranks maintenance windows per asset from RUL estimates against the production
 * calendar (runtime/maintenance/window-ranking.ts) and proposes the best one to the approval gate
 * only when it is new or changed materially (window-stability.ts). Thin adapter: per asset it keeps
 * the last estimate and the standing proposal; a calendar update by message or a tariff change
 * re-ranks every asset it knows.
 *
 * Time: the ranking runs in event time (the estimate's tsMs is "now"); only the proposal's expiry,
 * a deadline for people, is wall-clock time.
 */
import { randomUUID } from 'node:crypto';
import type { Node, NodeAPI, NodeMessage, NodeMessageInFlow } from 'node-red';
import type { Request, Response } from 'express';
import { TwinError } from '../../runtime/model/errors.js';
import type { MaintenanceProposal, MaintenanceWindow, RulEstimate } from '../../runtime/model/maintenance.js';
import { worstQuality } from '../../runtime/model/quality.js';
import { typicalWeek, type ProductionCalendar } from '../../runtime/maintenance/production-calendar.js';
import { localIso } from '../../runtime/time/zoned.js';
import { eur, evaluateWindow, rankWindows, type RankOptions } from '../../runtime/maintenance/window-ranking.js';
import { decideRecommendation, type StabilityDecision } from '../../runtime/maintenance/window-stability.js';
import type { TwinTariffNode } from '../twin-tariff/tariff-api.js';
import { refuseInputs } from '../shared/adapter.js';
import { translator } from '../shared/i18n.js';
import { errorStatusText, statusError, statusIdle, statusOk, statusWarn } from '../shared/status.js';
import {
  calendarFromDef,
  calendarFromPayload,
  configFromDef,
  rulFromPayload,
  type MaintenanceConfig,
  type TwinMaintenanceDef,
} from './maintenance-def.js';

type Send = (m: Array<NodeMessage | null>) => void;
type Done = (err?: Error) => void;

interface AssetState {
  rul: RulEstimate;
  proposal: MaintenanceProposal | null;
}

const DAY_MS = 86_400_000;
const days = (ms: number): string => `${(ms / DAY_MS).toFixed(ms < 10 * DAY_MS ? 1 : 0)} d`;

function rationale(job: string, w: MaintenanceWindow, rul: RulEstimate, timeZone: string, decision: StabilityDecision): string {
  const c = w.costParts;
  return (
    `${job} on ${rul.asset} ${w.startLocal} – ${w.endLocal}: ${w.why}. ` +
    `Expected cost ${eur(w.expectedCostEur)} (job ${eur(c.jobEur)}, downtime ${eur(c.downtimeEur)}, failure risk ${eur(c.expectedFailureEur)}, energy ${eur(c.energyEur)}). ` +
    `RUL ${days(rul.rulMs)} (P10 ${days(rul.rulP10Ms)}, P90 ${days(rul.rulP90Ms)}) as of ${localIso(rul.tsMs, timeZone)}; ${decision.reason}.`
  );
}

export default function (RED: NodeAPI): void {
  const t = translator(RED._ as (key: string, vars?: Record<string, unknown>) => string, 'twin-maintenance');

  function TwinMaintenance(this: Node, def: TwinMaintenanceDef): void {
    RED.nodes.createNode(this, def);
    const node = this;

    let config: MaintenanceConfig;
    let tariffNode: TwinTariffNode | null = null;
    try {
      config = configFromDef(def);
      if (typeof def.tariff === 'string' && def.tariff.trim() !== '') {
        tariffNode = RED.nodes.getNode(def.tariff) as TwinTariffNode | null;
        if (!tariffNode || typeof tariffNode.tariff !== 'function')
          throw new TwinError('BAD_CONFIG', `tariff node '${def.tariff}' is not deployed (a twin-tariff config node)`);
      }
    } catch (err) {
      refuseInputs(node, t, (err as Error).message);
      return;
    }
    let calendar: ProductionCalendar = config.calendar;
    const assets = new Map<string, AssetState>();

    /** Ranking options with the tariff in force; a tariff node without a valid tariff leaves energy unpriced. */
    function options(): { opts: RankOptions; tariffProblem?: string } {
      if (!tariffNode) return { opts: config.rank };
      const tariff = tariffNode.tariff();
      if (!tariff) return { opts: config.rank, tariffProblem: t('quality.noTariff', { error: tariffNode.configError ?? '' }) };
      return { opts: { ...config.rank, tariff } };
    }

    /** Ranks one asset; returns [windows message, proposal message or null]. Throws on a bad estimate. */
    function rank(rul: RulEstimate, base: NodeMessage): [NodeMessage, NodeMessage | null] {
      const { opts, tariffProblem } = options();
      const result = rankWindows(calendar, rul, opts);
      const windows = tariffProblem
        ? result.windows.map((w) => ({
            ...w,
            quality: worstQuality(w.quality, 'uncertain'),
            qualityReason: [w.qualityReason, tariffProblem].filter(Boolean).join('; '),
          }))
        : result.windows;
      const prev = assets.get(rul.asset);
      const open = prev?.proposal && Date.now() < prev.proposal.expiresTsMs ? prev.proposal : null;
      const standingNow = open ? evaluateWindow(calendar, rul, opts, open.window.startMs) : null;
      const decision = decideRecommendation(open?.window ?? null, standingNow, windows[0] ?? null, config.stability);
      const out1: NodeMessage & Record<string, unknown> = {
        ...base,
        topic: rul.asset,
        payload: windows,
        recommendation: decision.window,
        decision: decision.reason,
      };
      if (result.reason) out1.reason = result.reason;

      let proposal: MaintenanceProposal | null = null;
      // A bad estimate is shown but never proposed (bad input must not become a good-looking plan).
      if (decision.emit && decision.window && rul.quality !== 'bad') {
        const w = decision.window;
        proposal = {
          kind: 'maintenance',
          id: randomUUID(),
          asset: rul.asset,
          job: config.job,
          window: w,
          alternatives: windows.filter((x) => x !== w),
          rul,
          rationale: rationale(config.job, w, rul, calendar.timeZone, decision),
          createdTsMs: rul.tsMs,
          expiresTsMs: Date.now() + config.proposalExpiryMs,
          quality: w.quality,
        };
        if (w.qualityReason) proposal.qualityReason = w.qualityReason;
        if (open) proposal.supersedes = open.id;
      }
      assets.set(rul.asset, { rul, proposal: proposal ?? open });
      showStatus(windows.length, proposal !== null);
      return [out1, proposal ? { topic: rul.asset, payload: proposal } : null];
    }

    function showStatus(count: number, proposed: boolean): void {
      if (count === 0) statusWarn(node, t('status.none'));
      else if (proposed) statusOk(node, t('status.proposed'));
      else statusOk(node, t('status.ranked', { count }));
    }

    /** Re-rank every asset after a calendar or tariff change; an asset that fails is reported, not lost. */
    function rerankAll(send: Send): void {
      for (const { rul } of [...assets.values()]) {
        try {
          send(rank(rul, {}));
        } catch (err) {
          statusError(node, errorStatusText(err));
          node.error(t('errors.rerank', { asset: rul.asset, error: (err as Error).message }));
        }
      }
    }

    statusIdle(node, t('status.ready'));
    const unsubscribe = tariffNode?.onChange(() => rerankAll((m) => node.send(m)));

    node.on('input', (msg: NodeMessageInFlow, send: Send, done: Done) => {
      try {
        if (msg.topic === 'calendar') {
          calendar = calendarFromPayload(msg.payload, calendar.timeZone, 'calendar message');
          rerankAll(send);
          if (assets.size === 0) statusOk(node, t('status.calendar'));
          done();
          return;
        }
        send(rank(rulFromPayload(msg.payload), msg as NodeMessage));
        done();
      } catch (err) {
        statusError(node, errorStatusText(err));
        done(err as Error);
      }
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      unsubscribe?.();
      done();
    });
  }
  RED.nodes.registerType('twin-maintenance', TwinMaintenance);

  // The edit dialog's week preview and inline error: the calendar text with the node's time zone,
  // compiled by the runtime's own checks (write permission, as the tariff's Check).
  RED.httpAdmin.post(
    '/twinloop/maintenance/calendar/check',
    RED.auth.needsPermission('twin-maintenance.write'),
    (req: Request, res: Response) => {
      try {
        const body = (req.body ?? {}) as { calendar?: unknown; timeZone?: unknown };
        const calendar = calendarFromDef({
          calendar: String(body.calendar ?? ''),
          timeZone: typeof body.timeZone === 'string' ? body.timeZone : undefined,
        });
        res.json({ ok: true, timeZone: calendar.timeZone, ...typicalWeek(calendar) });
      } catch (err) {
        res.status(400).json({ ok: false, error: (err as Error).message });
      }
    },
  );
}
