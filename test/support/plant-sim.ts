/**
 * Test fixture: the plant simulator on a free OPC UA port with a temp PKI, for any spec that needs
 * a real OPC UA / MQTT source. Defaults suit live tests: wall clock at speed 1 (timestamps close to
 * now), a sample every 200 ms. Pass `clock: 'manual'` and call `sim.advance(ms)` for exact control.
 *
 *   const plant = await startTestPlantSim({ mqttUrl: broker.url });
 *   ... plant.endpoint, plant.sim.injectFault({ tag: 'zone1_temp', kind: 'dropout' }) ...
 *   await plant.stop();
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPlantSim, type PlantSim, type PlantSimOptions } from '../../examples/plant-sim/index.js';
import { freePort } from './ports.js';

export interface TestPlantSim {
  sim: PlantSim;
  /** OPC UA endpoint URL (undefined with `opcua: false`). */
  endpoint: string;
  port: number;
  pkiDir: string;
  stop(): Promise<void>;
}

export async function startTestPlantSim(options: PlantSimOptions = {}): Promise<TestPlantSim> {
  const base = process.env.TWINLOOP_TEST_TMP ?? tmpdir();
  const pkiDir = options.pkiDir ?? mkdtempSync(join(base, 'plant-sim-pki-'));
  const port = options.opcuaPort ?? (await freePort());
  const sim = await startPlantSim({ publishIntervalMs: 200, seed: 1, ...options, opcuaPort: port, pkiDir });
  return {
    sim,
    endpoint: sim.opcuaEndpoint ?? '',
    port,
    pkiDir,
    async stop() {
      await sim.stop();
      if (!options.pkiDir) rmSync(pkiDir, { recursive: true, force: true });
    },
  };
}
