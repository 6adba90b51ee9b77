/**
 * Lines shared by `twinloop start --cluster` instances, as the 3-instance spec and the cluster-scale
 * bench drive them: start an instance on a NATS cluster and a Mosquitto, read who holds which line
 * (the lines' lease streams, the membership bucket, each instance's own log), wait for the shares to
 * settle, probe that every line's owner processes its readings, and find the claim that ended a
 * line's takeover in its lease stream.
 */
import type { MqttClient } from 'mqtt';
import { Kvm, jetstream, jetstreamManager } from '../../runtime/cluster/nats-client.js';
import { leaseHolders, type LineHolder } from '../../runtime/cluster/lease-view.js';
import { MEMBERS_BUCKET, maxLinesPerInstance, type LeaseEvent } from '../../runtime/cluster/line-lease.js';
import { leaseStreamName } from '../../runtime/cluster/line-id.js';
import type { NatsCluster } from './nats.js';
import { publish } from './mqtt-helpers.js';
import { waitFor } from './ports.js';
import { startTwinloop, type TwinloopProcess } from './twinloop-process.js';

/**
 * `twinloop start --cluster` as instance `name`, with the generated flow for `lines` (demo logins
 * off, info logs); `extraArgs` e.g. `--flow FILE`.
 */
export function startLineInstance(
  nats: NatsCluster,
  mqttUrl: string,
  lines: readonly string[],
  name: string,
  leaseS: number,
  extraArgs: string[] = [],
): Promise<TwinloopProcess> {
  const args = ['--cluster', nats.servers.join(','), '--lines', lines.join(','), '--mqtt-url', mqttUrl];
  return startTwinloop([...args, '--instance', name, '--lease-s', String(leaseS), ...extraArgs], {
    TWINLOOP_DEMO_USERS: '0',
    TWINLOOP_LOG: 'info',
  });
}

/** Who holds each line now, by its lease stream. */
export async function leaseView(nats: NatsCluster, lines: readonly string[]): Promise<LineHolder[]> {
  const nc = await nats.connect();
  try {
    return await leaseHolders(await jetstreamManager(nc), lines);
  } finally {
    await nc.close();
  }
}

/** Lines per holder. */
export function holderCounts(view: readonly LineHolder[]): Map<string, number> {
  const c = new Map<string, number>();
  for (const l of view) if (l.holder) c.set(l.holder, (c.get(l.holder) ?? 0) + 1);
  return c;
}

/** Instances in the membership bucket (those that heartbeat). */
export async function memberCount(nats: NatsCluster): Promise<number> {
  const nc = await nats.connect();
  try {
    const keys: string[] = [];
    for await (const k of await (await new Kvm(jetstream(nc)).open(MEMBERS_BUCKET)).keys()) keys.push(k);
    return keys.length;
  } finally {
    await nc.close();
  }
}

/**
 * `instances` members, every line held, each holding at least ⌊lines / instances⌋ and none above
 * ⌈lines / instances⌉ + 1 (nobody keeps the slack while another holds less: line-lease.ts
 * shareThisTick); the settled view.
 */
export async function waitLinesSettled(
  nats: NatsCluster,
  lines: readonly string[],
  instances: number,
  timeoutMs = 60_000,
): Promise<LineHolder[]> {
  const share = maxLinesPerInstance(lines.length, instances, 1);
  const fair = Math.floor(lines.length / instances);
  return (await waitFor(
    async () => {
      if ((await memberCount(nats).catch(() => 0)) !== instances) return false;
      const v = await leaseView(nats, lines).catch(() => undefined); // streams being created: ask again
      if (!v) return false;
      const n = [...holderCounts(v).values()];
      return v.every((l) => l.holder) && n.length === instances && n.every((k) => k <= share && k >= fair) && v;
    },
    timeoutMs,
    250,
    `${instances} members, every line held, each holding its fair share`,
  )) as LineHolder[];
}

/**
 * Each line's session exists at the broker once its owner subscribed: publish `<line>/m1/probe`
 * on every line until `answered()` (the lines whose probe came back processed) has them all.
 */
export async function probeLines(pub: MqttClient, lines: readonly string[], answered: () => ReadonlySet<string>, timeoutMs = 60_000) {
  await waitFor(
    async () => {
      await Promise.all(lines.map((l) => publish(pub, `${l}/m1/probe`, JSON.stringify({ value: 0, tsMs: Date.now() }))));
      return lines.every((l) => answered().has(l));
    },
    timeoutMs,
    500,
    'every line processed by its owner',
  );
}

/** The line (site/area/line) of a processed reading's asset. */
export const lineOfAsset = (asset: string): string => asset.split('/').slice(0, 3).join('/');

/** Lines an instance says it owns, from its own log ("owns line X" / "released line X (…)"). */
export function ownedByLog(tl: TwinloopProcess): Set<string> {
  const owned = new Set<string>();
  for (const m of tl.output().matchAll(/\] (owns line|released line) (\S+)/g)) {
    if (m[1] === 'owns line') owned.add(m[2]);
    else owned.delete(m[2]);
  }
  return owned;
}

/**
 * The claim that took `line` from `victim`: searching its lease stream back from `fromSeq` (the
 * sequence of a view after the takeover) for a claim by another owner; with the event before it
 * (the victim's last renewal).
 */
export async function takeoverClaim(
  nats: NatsCluster,
  line: string,
  fromSeq: number,
  victim: string,
): Promise<{ claim: LeaseEvent; before: LeaseEvent }> {
  const nc = await nats.connect();
  try {
    const jsm = await jetstreamManager(nc);
    const eventAt = async (seq: number): Promise<LeaseEvent> =>
      JSON.parse(new TextDecoder().decode((await jsm.streams.getMessage(leaseStreamName(line), { seq }))!.data)) as LeaseEvent;
    let at = fromSeq;
    let ev = await eventAt(at);
    while (!(ev.kind === 'claim' && ev.owner !== victim) && at > 1) ev = await eventAt(--at);
    return { claim: ev, before: await eventAt(at - 1) };
  } finally {
    await nc.close();
  }
}
