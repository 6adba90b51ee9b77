/**
 * twin-tariff: an energy tariff (runtime/energy/tariff.ts) shared by the nodes that price energy
 * (config node). The saved definition is JSON text, compiled at start; a flow can replace the
 * tariff in force by message (twin-tariff-update), which is not saved: a restart or redeploy
 * returns to the saved definition.
 */
import { createHash } from 'node:crypto';
import type { NodeAPI } from 'node-red';
import type { Request, Response } from 'express';
import { canonicalJson } from '../../runtime/control/canonical.js';
import { compileTariff, weekPlan, type Tariff, type TariffDef } from '../../runtime/energy/tariff.js';
import { TwinError } from '../../runtime/model/errors.js';
import { translator } from '../shared/i18n.js';
import type { TwinTariffDef, TwinTariffNode } from './tariff-api.js';

interface InForce {
  tariff: Tariff;
  version: string;
}

/**
 * Compile a definition and hash it. The tariff keeps a copy made from the canonical JSON, so a
 * caller changing its object afterwards changes neither the tariff nor its version.
 */
function compile(def: unknown): InForce {
  let canonical: string;
  try {
    canonical = canonicalJson(def);
  } catch (err) {
    throw new TwinError('BAD_CONFIG', `tariff: ${(err as Error).message}`);
  }
  let tariff: Tariff;
  try {
    tariff = compileTariff(JSON.parse(canonical) as TariffDef);
  } catch (err) {
    // compileTariff names every problem it checks; anything else (a field of the wrong type it
    // iterates, say) still reaches the user as a configuration error, not as a crash.
    if (err instanceof TwinError) throw err;
    throw new TwinError('BAD_CONFIG', `tariff: ${(err as Error).message}`, { cause: err });
  }
  return { tariff, version: createHash('sha256').update(canonical).digest('hex') };
}

function compileText(text: unknown): InForce {
  if (typeof text !== 'string' || text.trim() === '')
    throw new TwinError('BAD_CONFIG', 'tariff: no definition (paste the tariff JSON into the node)');
  let def: unknown;
  try {
    def = JSON.parse(text);
  } catch (err) {
    throw new TwinError('BAD_CONFIG', `tariff: not valid JSON (${(err as Error).message})`);
  }
  return compile(def);
}

// eslint-disable-next-line no-control-regex -- control characters are what it matches
const CONTROL_CHARS = /[\u0000-\u001f\u007f]+/g;

/** `by` goes into the log: one line, bounded, no control characters. */
function who(by: unknown): string {
  const s = String(by ?? '')
    .replace(CONTROL_CHARS, ' ')
    .trim();
  return s === '' ? 'unknown' : s.length > 120 ? s.slice(0, 119) + '…' : s;
}

export default function (RED: NodeAPI): void {
  const t = translator(RED._ as (key: string, vars?: Record<string, unknown>) => string, 'twin-tariff');

  function TwinTariff(this: TwinTariffNode, def: TwinTariffDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const listeners = new Set<{ fn: (tariff: Tariff) => void }>();

    let inForce: InForce | null = null;
    try {
      inForce = compileText(def.tariff);
    } catch (err) {
      node.configError = (err as Error).message;
      node.error(t('errors.config', { error: node.configError }));
    }

    node.tariff = () => inForce?.tariff ?? null;
    node.version = () => inForce?.version ?? '';
    node.update = (next: TariffDef, by: string): Tariff => {
      const compiled = compile(next); // throws with the old tariff still in force
      const from = inForce?.version.slice(0, 12) ?? 'none';
      inForce = compiled;
      node.configError = undefined;
      node.log(t('log.updated', { by: who(by), from, to: compiled.version.slice(0, 12) }));
      for (const l of [...listeners]) {
        try {
          l.fn(compiled.tariff);
        } catch (err) {
          // one user's bug must not keep the others on the old tariff
          node.error(t('errors.listener', { error: (err as Error).message }));
        }
      }
      return compiled.tariff;
    };
    node.onChange = (fn) => {
      const entry = { fn };
      listeners.add(entry);
      return () => {
        listeners.delete(entry);
      };
    };

    node.on('close', (_removed: boolean, done: () => void) => {
      listeners.clear();
      done();
    });
  }

  RED.nodes.registerType('twin-tariff', TwinTariff as never);

  // The editor's "Check" button and week preview: compiles the text in the dialog with the runtime's own
  // checks and answers the week plan it draws (write permission, as core nodes' POST routes ask: only
  // someone who may edit flows has it compiled).
  RED.httpAdmin.post('/twinloop/tariff/check', RED.auth.needsPermission('twin-tariff.write'), (req: Request, res: Response) => {
    try {
      const { tariff, version } = compileText((req.body as { tariff?: unknown } | undefined)?.tariff);
      res.json({
        ok: true,
        version,
        timeZone: tariff.timeZone,
        periods: tariff.periods.map((p) => p.name),
        prices: tariff.periods.map((p) => ({ name: p.name, priceEurPerKwh: p.priceEurPerKwh })),
        week: weekPlan(tariff),
      });
    } catch (err) {
      res.status(400).json({ ok: false, error: (err as Error).message });
    }
  });
}
