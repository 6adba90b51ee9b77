// Global test settings: keep node-opcua's PKI and Node-RED's user data out of $HOME.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

process.env.TWINLOOP_TEST_TMP ??= mkdtempSync(join(tmpdir(), 'twinloop-test-'));
export const mochaHooks = {};
