/**
 * What twin-opcua-write and twin-mqtt-write share around the writer pipeline
 * (runtime/control/writer.ts): resolving their twin-envelope and twin-ledger config nodes, the
 * common config fields, and the input handler (outputs, status, done).
 */
import type { Node, NodeAPI, NodeMessage, NodeMessageInFlow } from 'node-red';
import type { EnvelopeConfig } from '../../runtime/model/control.js';
import { TwinError } from '../../runtime/model/errors.js';
import type { LedgerOwnership } from '../twin-ledger/ledger-api.js';
import { MIN_KEY_CHARS } from '../../runtime/control/command.js';
import { CommandWriter, type WriterTransport } from '../../runtime/control/writer.js';
import type { Ledger, UsedCommands } from '../../runtime/control/stores.js';
import { errorStatusText, statusError, statusOk } from './status.js';

/** What a writer needs of a twin-ledger config node (see notes/control.md). */
export interface LedgerConfigNode extends Node {
  configError?: string;
  ledger(): Promise<Ledger>;
  usedCommands(): Promise<UsedCommands>;
  signingKey(): string | undefined;
  /** Set when the ledger follows a cluster line's ownership (twin-ledger on JetStream with a twin-cluster). */
  ownership?: Pick<LedgerOwnership, 'line' | 'owns'>;
}

/** What a writer needs of a twin-envelope config node. */
export interface EnvelopeConfigNode extends Node {
  configError?: string;
  envelope(): EnvelopeConfig | undefined;
  version(): string;
}

export interface WriterCommonDef {
  asset?: unknown;
  tag?: unknown;
  envelope?: unknown;
  ledger?: unknown;
  readBackTimeoutMs?: unknown;
  readBackTolerance?: unknown;
}

export interface WriterCommonConfig {
  asset: string;
  tag: string;
  envelopeNode: EnvelopeConfigNode;
  envelope: EnvelopeConfig;
  envelopeVersion: string;
  ledgerNode: LedgerConfigNode;
  key: string;
  readBackTimeoutMs: number;
  /** undefined: half a unit in the last decimal of the commanded value. */
  readBackToleranceAbs?: number;
}

type Translate = (key: string, vars?: Record<string, unknown>) => string;

function numberOr(raw: unknown, dflt: number | undefined): number | undefined {
  if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) return dflt;
  return typeof raw === 'number' ? raw : Number(raw);
}

/**
 * Validate the fields both writers have; throws BAD_CONFIG naming the field. `connection` is the
 * writer's own connection (config node id): it must be the envelope's source, the one connection
 * its setpoint, interlocks and inputs are read from and the setpoint is written through.
 */
export function validateWriterCommon(RED: NodeAPI, def: WriterCommonDef, connection: string, t: Translate): WriterCommonConfig {
  const bad = (key: string, vars?: Record<string, unknown>) => new TwinError('BAD_CONFIG', t(`errors.${key}`, vars));
  const asset = typeof def.asset === 'string' ? def.asset.trim() : '';
  const tag = typeof def.tag === 'string' ? def.tag.trim() : '';
  if (!asset) throw bad('noAsset');
  if (!tag) throw bad('noTag');
  const readBackTimeoutMs = numberOr(def.readBackTimeoutMs, 2000)!;
  if (!Number.isFinite(readBackTimeoutMs) || readBackTimeoutMs < 1) throw bad('readBackTimeout');
  const readBackToleranceAbs = numberOr(def.readBackTolerance, undefined);
  if (readBackToleranceAbs !== undefined && !(Number.isFinite(readBackToleranceAbs) && readBackToleranceAbs >= 0))
    throw bad('readBackTolerance');

  const envelopeNode = RED.nodes.getNode(String(def.envelope ?? '')) as EnvelopeConfigNode | null;
  if (!envelopeNode || typeof envelopeNode.envelope !== 'function') throw bad('noEnvelope');
  if (envelopeNode.configError) throw bad('envelopeInvalid', { error: envelopeNode.configError });
  const envelope = envelopeNode.envelope();
  if (!envelope) throw bad('envelopeInvalid', { error: '?' });
  // the envelope belongs to one setpoint: checking this writer's writes against another's limits would be wrong
  if (envelope.asset !== asset || envelope.tag !== tag)
    throw bad('envelopeOther', { envelope: `${envelope.asset}/${envelope.tag}`, target: `${asset}/${tag}` });
  if (envelope.source !== connection) throw bad('otherSource', { source: envelope.source ?? '?', connection });

  const ledgerNode = RED.nodes.getNode(String(def.ledger ?? '')) as LedgerConfigNode | null;
  if (!ledgerNode || typeof ledgerNode.ledger !== 'function') throw bad('noLedger');
  if (ledgerNode.configError) throw bad('ledgerInvalid', { error: ledgerNode.configError });
  const key = ledgerNode.signingKey();
  if (typeof key !== 'string' || key.length < MIN_KEY_CHARS) throw bad('noKey', { n: MIN_KEY_CHARS });

  return {
    asset,
    tag,
    envelopeNode,
    envelope,
    envelopeVersion: envelopeNode.version(),
    ledgerNode,
    key,
    readBackTimeoutMs,
    readBackToleranceAbs,
  };
}

type Send = (msg: Array<NodeMessage | null>) => void;
type Done = (err?: Error) => void;

/**
 * The input side of a writer: each msg.payload goes through the pipeline; output 1 gets the
 * WriteResult (wire it back to twin-approval), output 2 an alarm when the write or read-back failed
 * (or a command settled after a restart was not written, or its outcome could not be read);
 * a refusal is done(err) (Catch nodes see it) after it is in the ledger.
 */
export function attachWriterInput(node: Node, cfg: WriterCommonConfig, transport: WriterTransport, t: Translate): void {
  let writer: { ledger: Ledger; w: CommandWriter } | undefined;
  // Asked for each command: a ledger that follows its line's ownership refuses while another instance
  // owns the line (nothing is written then), and is a new handle each time the line is acquired again.
  const open = async (): Promise<CommandWriter> => {
    const [ledger, usedCommands] = await Promise.all([cfg.ledgerNode.ledger(), cfg.ledgerNode.usedCommands()]);
    if (writer?.ledger !== ledger) {
      writer = {
        ledger,
        w: new CommandWriter({
          writerId: node.id,
          key: cfg.key,
          target: { asset: cfg.asset, tag: cfg.tag },
          envelope: cfg.envelope,
          envelopeVersion: cfg.envelopeVersion,
          usedCommands,
          ledger,
          transport,
          readBackToleranceAbs: cfg.readBackToleranceAbs,
          // the lease by this instance's own clock, read after the intent: a pause there must not end in a write
          mayWrite: () => {
            const o = cfg.ledgerNode.ownership;
            return o && !o.owns() ? `line ${o.line} is no longer this instance's (its lease ran out)` : undefined;
          },
        }),
      };
    }
    return writer.w;
  };
  const topic = `${cfg.asset}/${cfg.tag}`;

  node.on('input', (msg: NodeMessageInFlow, send: Send, done: Done) => {
    open()
      .then((w) => w.execute(msg.payload))
      .then((out) => {
        const resultMsg = out.result ? ({ topic, payload: out.result } as NodeMessage) : null;
        const alarmMsg =
          out.alarm && out.result
            ? ({ topic, payload: { asset: cfg.asset, tag: cfg.tag, commandId: out.result.commandId, reason: out.reason } } as NodeMessage)
            : null;
        if (resultMsg || alarmMsg) send([resultMsg, alarmMsg]);
        if (out.refusal) {
          statusError(node, t('status.refused'));
          // not a command at all is malformed input; anything else is a command refused
          done(new TwinError(out.refusal === 'MALFORMED' ? 'BAD_PAYLOAD' : 'REFUSED', t('errors.refused', { reason: out.reason })));
        } else if (out.result?.outcome === 'failed') {
          statusError(node, t('status.failed'));
          done();
        } else if (out.result?.outcome === 'unknown') {
          // settled after a restart without being able to read the plant: the gate fails the change
          statusError(node, t('status.unknown'));
          done();
        } else if (out.alarm) {
          statusError(node, t('status.readBackFailed'));
          done();
        } else {
          statusOk(node, t('status.written', { value: out.result?.value }));
          done();
        }
      })
      .catch((err: unknown) => {
        // the ledger failed: nothing is reported as done that is not recorded
        statusError(node, errorStatusText(err));
        done(err instanceof Error ? err : new Error(String(err)));
      });
  });
}
