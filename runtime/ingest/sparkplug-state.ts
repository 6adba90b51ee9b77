/**
 * Sparkplug B 3.0 primary host STATE: a host application announces itself on
 * `spBv1.0/STATE/<host id>` with the JSON `{"online": true, "timestamp": T}` (QoS 1, retained) after
 * it connects, and registers `{"online": false, "timestamp": T}` (same T) as its MQTT will, so the
 * broker says offline when the host dies. Edge nodes configured with that host id store and forward
 * while it is offline. In a cluster the host id belongs to the line, not to an instance: whichever
 * instance owns the line is its primary host, so the edge nodes need no change on a takeover.
 */
import { TwinError } from '../model/errors.js';
import { SPARKPLUG_NAMESPACE } from './sparkplug-codec.js';

export interface HostState {
  online: boolean;
  timestamp: number;
}

/** `spBv1.0/STATE/<host id>`; a host id is one topic level (no '/', '+', '#'). */
export function stateTopic(hostId: string): string {
  if (hostId === '' || /[/+#]/.test(hostId)) throw new TwinError('BAD_CONFIG', `Sparkplug host id '${hostId}' must be one topic level`);
  return `${SPARKPLUG_NAMESPACE}/STATE/${hostId}`;
}

export function statePayload(online: boolean, timestamp: number): string {
  return JSON.stringify({ online, timestamp } satisfies HostState);
}

/** A STATE payload, or undefined when it is not one (say, a Sparkplug 2.2 'ONLINE' text). */
export function parseState(payload: Buffer | string): HostState | undefined {
  try {
    const v = JSON.parse(String(payload)) as Partial<HostState>;
    return typeof v.online === 'boolean' && typeof v.timestamp === 'number' ? { online: v.online, timestamp: v.timestamp } : undefined;
  } catch {
    return undefined;
  }
}
