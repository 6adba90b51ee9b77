/**
 * twin-propose: setpoint proposals from a fitted response of a KPI (runtime/control/proposer.ts).
 * Thin adapter: Reading payloads of the setpoint, KPI, constraint and input tags of one asset go
 * in; a Proposal comes out when a refit finds a better setpoint. The wall clock is read only for
 * the proposal's expiry (a deadline for people); everything else runs in event time.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { singleReadingInput } from '../../runtime/model/reading.js';
import { validateProposerConfig, type ProposerConfig } from '../../runtime/control/propose-config.js';
import { Proposer, type ProposerStatus } from '../../runtime/control/proposer.js';
import { translator } from '../shared/i18n.js';
import { refuseInputs } from '../shared/adapter.js';
import { messageGetter, propertyPath } from '../shared/typed-property.js';
import { statusError, statusIdle, statusOk, statusWarn, errorStatusText } from '../shared/status.js';

interface TwinProposeDef extends NodeDef, Record<string, unknown> {}

/** The editor's fields as the runtime's raw config (blank optional numbers stay blank). */
function configFromDef(def: Record<string, unknown>): ProposerConfig {
  const raw: Record<string, unknown> = {};
  for (const k of [
    'asset',
    'setpointTag',
    'kpiTag',
    'mode',
    'kpiTarget',
    'constraintTag',
    'constraintMin',
    'constraintMax',
    'inputTags',
    'model',
    'windowMs',
    'refitIntervalMs',
    'minSamples',
    'deadband',
    'minChange',
    'proposalTtlMs',
    'spLowLimit',
    'spHighLimit',
    'settleMs',
    'intervalPct',
    'spResolution',
    'maxBadPct',
  ]) {
    if (def[k] !== undefined) raw[k] = def[k];
  }
  return validateProposerConfig(raw);
}

export default function (RED: NodeAPI): void {
  function TwinProposeNode(this: Node, def: TwinProposeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const t = translator(RED._ as (key: string, vars?: Record<string, unknown>) => string, 'twin-propose');

    let cfg: ProposerConfig;
    let getInput: (msg: NodeMessage) => unknown;
    try {
      cfg = configFromDef(def);
      getInput = messageGetter(RED.util, propertyPath(def.property));
    } catch (err) {
      refuseInputs(node, t, (err as Error).message);
      return;
    }
    const proposer = new Proposer(cfg);
    let shown = '';
    let shownMs = 0;
    let pending: ProposerStatus | undefined;
    let timer: NodeJS.Timeout | undefined;
    const render = (s: ProposerStatus) => {
      const uncertain = s.phase === 'proposed' && s.quality !== 'good';
      let text: string;
      if (s.phase === 'waiting') text = t('status.waiting');
      else if (s.phase === 'learning') text = s.blocked ? t(`status.${s.blocked}`) : t('status.learning', { n: s.n, needed: s.needed });
      else if (s.phase === 'fitted') text = t('status.fitted', { r2: s.r2.toFixed(2) });
      else text = t('status.proposed', { value: Number(s.value.toPrecision(6)) });
      const key = `${text}/${uncertain}`;
      if (key === shown) return;
      shown = key;
      shownMs = Date.now();
      if (s.phase === 'learning' && s.blocked && s.blocked !== 'variation') statusWarn(node, text);
      else if (s.phase === 'waiting' || s.phase === 'learning') statusIdle(node, text);
      else if (uncertain) statusWarn(node, text);
      else statusOk(node, text);
    };
    // A phase change shows at once; the learning counter at most once a second (a per-message
    // status would flood the editor at high rates).
    const show = (s: ProposerStatus) => {
      if (s.phase !== 'learning' || s.blocked || !shown.startsWith('learning') || Date.now() - shownMs >= 1000) {
        if (timer) clearTimeout(timer);
        timer = undefined;
        render(s);
        return;
      }
      pending = s;
      timer ??= setTimeout(() => {
        timer = undefined;
        if (pending) render(pending);
      }, 1000);
    };
    show({ phase: 'waiting', reason: '' });

    node.on('input', (msg: NodeMessageInFlow, send: (m: NodeMessage) => void, done: (err?: Error) => void) => {
      let outcome;
      try {
        const r = singleReadingInput(getInput(msg as NodeMessage), 'twin-propose');
        outcome = proposer.push(r, Date.now());
      } catch (err) {
        if (timer) clearTimeout(timer);
        timer = undefined;
        shown = '';
        statusError(node, errorStatusText(err));
        done(err as Error);
        return;
      }
      if (outcome.proposal) {
        const p = outcome.proposal;
        const out = msg as NodeMessage;
        out.topic = `${p.asset}/${p.tag}`;
        out.payload = p;
        send(out);
      }
      if (!outcome.ignored) show(outcome.status);
      done();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      if (timer) clearTimeout(timer);
      done();
    });
  }
  RED.nodes.registerType('twin-propose', TwinProposeNode);
}
