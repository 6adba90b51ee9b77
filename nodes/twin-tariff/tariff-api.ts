/**
 * What a twin-tariff config node offers the nodes that use it (twin-energy, twin-maintenance).
 * Kept apart from the node file so users can import the types without registering anything.
 */
import type { Node, NodeDef } from 'node-red';
import type { Tariff, TariffDef } from '../../runtime/energy/tariff.js';

export interface TwinTariffDef extends NodeDef {
  /** The tariff definition as JSON text (runtime/energy/tariff.ts TariffDef). */
  tariff: string;
}

export interface TwinTariffNode extends Node {
  /** Set when the saved definition does not compile; users show it in red. Cleared by a good update. */
  configError?: string;
  /** The tariff in force (the saved one, or the last one updated by message); null when none compiles. */
  tariff(): Tariff | null;
  /**
   * Replace the tariff in force (a flow sends a new definition, e.g. next year's prices). Throws
   * TwinError('BAD_CONFIG') naming the problem and keeps the old tariff. Not saved to the flow: a
   * restart returns to the saved definition (the caller says so in its help).
   */
  update(def: TariffDef, by: string): Tariff;
  /** Called after every successful update; returns the unsubscribe function. */
  onChange(listener: (tariff: Tariff) => void): () => void;
  /** sha256 of the canonical JSON of the definition in force (recorded with costs). */
  version(): string;
}
