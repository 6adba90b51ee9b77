/**
 * The replay hub: a process-wide registry that ingestion nodes join instead of opening their live
 * connections while `twinloop replay` runs, and through which the replay delivers Readings.
 * No node-red import; the hub lives on globalThis so every copy of this module sees the same one.
 *
 * Routing rule (what a controls engineer expects from "replay my plant data through my flow"):
 * - a source whose configuration names any `<asset>/<tag>` of the file (a twin-opcua-in item, a
 *   twin-mqtt-in topic pattern that maps `<asset>/<tag>` back to the same asset and tag) gets
 *   exactly the readings it names, as it would live;
 * - a source that names none of them (a Sparkplug B node, a flow configured for other names) gets
 *   every reading of the file, so a file never silently goes nowhere.
 */
import type { Reading } from '../model/reading.js';

export interface ReplaySource {
  /** Node id, for messages. */
  id: string;
  type: string;
  /** Does this source's configuration name this asset/tag? */
  claims(asset: string, tag: string): boolean;
  /** Emit the readings (in the order given) as the node's own messages. */
  deliver(readings: Reading[]): void;
}

export interface ReplayHub {
  /** Join the replay; returns the function that leaves it. */
  register(source: ReplaySource): () => void;
}

interface HubState {
  sources: Map<string, ReplaySource>;
}

const KEY = Symbol.for('twinloop.replay.hub');
type WithHub = typeof globalThis & { [KEY]?: HubState };

/** The active hub, or undefined when no replay runs (live mode). */
export function replayHub(): ReplayHub | undefined {
  const state = (globalThis as WithHub)[KEY];
  if (!state) return undefined;
  return {
    register(source) {
      state.sources.set(source.id, source);
      return () => {
        if (state.sources.get(source.id) === source) state.sources.delete(source.id);
      };
    },
  };
}

/** The replay's side of the hub. */
export class ReplayHubController {
  private readonly state: HubState = { sources: new Map() };
  private routes = new Map<string, ReplaySource[]>();
  private catchAll: ReplaySource[] = [];

  /** Turn replay mode on for this process: ingestion nodes created from now on join the hub. */
  activate(): void {
    const g = globalThis as WithHub;
    if (g[KEY] && g[KEY] !== this.state) throw new Error('a replay is already running in this process');
    g[KEY] = this.state;
  }

  deactivate(): void {
    const g = globalThis as WithHub;
    if (g[KEY] === this.state) delete g[KEY];
  }

  /** Sources that name none of the file's topics and so get every reading (after `plan`). */
  catchAllSources(): ReplaySource[] {
    return [...this.catchAll];
  }

  sources(): ReplaySource[] {
    return [...this.state.sources.values()];
  }

  /** Fix the routes for the file's topics (call once the flow is started and the file is read). */
  plan(topics: Iterable<string>): Map<string, ReplaySource[]> {
    const sources = this.sources();
    const list = [...topics];
    const split = list.map((t) => {
      const i = t.lastIndexOf('/');
      return { topic: t, asset: t.slice(0, i), tag: t.slice(i + 1) };
    });
    const claimsAny = new Set<ReplaySource>();
    for (const s of sources) if (split.some((x) => s.claims(x.asset, x.tag))) claimsAny.add(s);
    this.catchAll = sources.filter((s) => !claimsAny.has(s));
    this.routes = new Map();
    for (const x of split) {
      this.routes.set(
        x.topic,
        sources.filter((s) => (claimsAny.has(s) ? s.claims(x.asset, x.tag) : true)),
      );
    }
    return this.routes;
  }

  /** Deliver readings: each source gets its share in the order given, one call per source. */
  deliver(readings: Reading[]): number {
    const bySource = new Map<ReplaySource, Reading[]>();
    let routed = 0;
    for (const r of readings) {
      const to = this.routes.get(`${r.asset}/${r.tag}`) ?? this.catchAll;
      for (const s of to) {
        let list = bySource.get(s);
        if (!list) bySource.set(s, (list = []));
        list.push(r);
        routed++;
      }
    }
    for (const [s, list] of bySource) s.deliver(list);
    return routed;
  }
}
