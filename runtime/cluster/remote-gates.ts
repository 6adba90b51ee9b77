/**
 * The process-wide door from the supervisors' pages (web/server/approvals-api.ts, overview-api.ts) to
 * the gates other cluster instances serve. A twin-cluster node sets it once its gate service runs
 * (runtime/cluster/gate-service.ts) and clears it on close; without a cluster it stays unset and the
 * pages see only this process's registry, exactly as before. No NATS import: the pages load this
 * file whether or not a cluster exists.
 */
import type { AutoApprovalPolicy, DecisionOutcome, DecisionRequest, GateHandle } from '../control/gate-registry.js';
import type { ClusterListing } from './gate-wire.js';

/** A decision or policy switch sent to the owning instance: its answer, or why there was none. */
export type RemoteOutcome =
  | { answered: true; instance: string; outcome: DecisionOutcome; autoApproval?: AutoApprovalPolicy }
  | {
      answered: false;
      /**
       * 'no-owner': no instance serves the gate now (a takeover in progress, or its line is not run):
       * nothing was decided. 'no-answer': the request went out but no valid answer came back in time:
       * the decision may or may not have been recorded.
       */
      why: 'no-owner' | 'no-answer';
      error: string;
    };

export interface RemoteGates {
  /** This instance's name in the cluster. */
  readonly instance: string;
  /** This instance serves the gate itself (no line, or its line is owned here): decide it locally. */
  servesLocally(g: GateHandle): boolean;
  /** Every other instance's gates, and who owns which line (briefly cached: pages poll). */
  list(): Promise<ClusterListing>;
  decide(gateId: string, req: DecisionRequest): Promise<RemoteOutcome>;
  setAutoApproval(gateId: string, enabled: boolean, user: string, reason: string): Promise<RemoteOutcome>;
}

let current: RemoteGates | undefined;

export function setRemoteGates(r: RemoteGates): void {
  current = r;
}

/** Clear, if it is still `r` (a newer twin-cluster node may have set its own). */
export function clearRemoteGates(r: RemoteGates): void {
  if (current === r) current = undefined;
}

export function remoteGates(): RemoteGates | undefined {
  return current;
}
