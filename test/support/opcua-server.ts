/**
 * A small, real node-opcua server for the OPC UA tests and the bench: a free port, a temporary PKI
 * that accepts every client certificate, a handful of variables whose value, status and source
 * timestamp a test can set, optional user/password, all three security policies, and stop/restart
 * on the same port (the fault tests restart it in the middle of a subscription).
 *
 * Run as a script (`node -r tsx/cjs test/support/opcua-server.ts --bench-items N`) it serves N
 * bench variables in its own process and prints `{"port":…}` once listening (used by the bench).
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DataType,
  DataValue,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAServer,
  SecurityPolicy,
  StatusCode,
  StatusCodes,
  Variant,
  type UAVariable,
} from 'node-opcua';
import { freePort } from './ports.js';

/** The variables every test server has: `ns=1;s=<name>`. */
export const TEST_VARIABLES = {
  Temperature: { dataType: DataType.Double, initial: 21.5 },
  Pressure: { dataType: DataType.Double, initial: 1.2 },
  Running: { dataType: DataType.Boolean, initial: true },
  Counter: { dataType: DataType.Int32, initial: 7 },
  Label: { dataType: DataType.String, initial: 'hello' },
} as const;
export type TestVariableName = keyof typeof TEST_VARIABLES;

export interface OpcuaTestServerOptions {
  port?: number;
  /** Accepted user/password pairs; when given, anonymous access is refused. */
  users?: Array<{ user: string; password: string }>;
  /** N extra Double variables `ns=1;s=bench.<i>` whose value advances on every read (see bench). */
  benchItems?: number;
}

export interface SetValueOptions {
  /** A StatusCode or its name, e.g. 'BadSensorFailure'. Default Good. */
  status?: StatusCode | string;
  /** Source timestamp; default now. */
  sourceTimestamp?: Date;
}

export class OpcuaTestServer {
  server!: OPCUAServer;
  readonly port: number;
  readonly pkiDir: string;
  private readonly opts: OpcuaTestServerOptions;
  private readonly values = new Map<string, DataValue>();
  private variables = new Map<string, UAVariable>();
  /** Per bench item: how many times its value was read (= the value last served). */
  readonly benchReads: Float64Array;
  private running = false;

  private constructor(port: number, opts: OpcuaTestServerOptions) {
    this.port = port;
    this.opts = opts;
    this.pkiDir = mkdtempSync(join(process.env.TWINLOOP_TEST_TMP ?? tmpdir(), 'opcua-server-pki-'));
    this.benchReads = new Float64Array(opts.benchItems ?? 0);
    for (const [name, v] of Object.entries(TEST_VARIABLES)) {
      this.values.set(name, new DataValue({ value: { dataType: v.dataType, value: v.initial }, sourceTimestamp: new Date() }));
    }
  }

  static async start(opts: OpcuaTestServerOptions = {}): Promise<OpcuaTestServer> {
    const s = new OpcuaTestServer(opts.port ?? (await freePort()), opts);
    await s.startServer();
    return s;
  }

  get endpointUrl(): string {
    return `opc.tcp://127.0.0.1:${this.port}/UA/TwinLoopTest`;
  }

  get isRunning(): boolean {
    return this.running;
  }

  private async startServer(): Promise<void> {
    const certificateManager = new OPCUACertificateManager({
      rootFolder: this.pkiDir,
      automaticallyAcceptUnknownCertificate: true,
    });
    await certificateManager.initialize();
    const users = this.opts.users;
    this.server = new OPCUAServer({
      port: this.port,
      hostname: '127.0.0.1',
      resourcePath: '/UA/TwinLoopTest',
      serverCertificateManager: certificateManager,
      securityModes: [MessageSecurityMode.None, MessageSecurityMode.Sign, MessageSecurityMode.SignAndEncrypt],
      securityPolicies: [
        SecurityPolicy.None,
        SecurityPolicy.Basic256Sha256,
        SecurityPolicy.Aes128_Sha256_RsaOaep,
        SecurityPolicy.Aes256_Sha256_RsaPss,
      ],
      allowAnonymous: !users,
      userManager: users ? { isValidUser: (u: string, p: string) => users.some((x) => x.user === u && x.password === p) } : undefined,
      serverCapabilities: { maxSessions: 50, maxSubscriptionsPerSession: 50, maxSubscriptions: 500 },
      buildInfo: { productName: 'TwinLoop test server' },
    });
    await this.server.initialize();
    this.buildAddressSpace();
    await this.server.start();
    this.running = true;
  }

  private buildAddressSpace(): void {
    const addressSpace = this.server.engine.addressSpace!;
    // the server's own namespace is index 1, so the test node ids read `ns=1;s=<name>`
    const ns = addressSpace.getOwnNamespace();
    const device = ns.addObject({ organizedBy: addressSpace.rootFolder.objects, browseName: 'TestDevice' });
    this.variables = new Map();
    for (const [name, v] of Object.entries(TEST_VARIABLES)) {
      const variable = ns.addVariable({
        componentOf: device,
        browseName: name,
        nodeId: `s=${name}`,
        dataType: DataType[v.dataType],
        minimumSamplingInterval: 0,
      });
      // keep what a test set before a restart
      variable.setValueFromSource(
        this.values.get(name)!.value,
        this.values.get(name)!.statusCode,
        this.values.get(name)!.sourceTimestamp ?? new Date(),
      );
      this.variables.set(name, variable);
    }
    const n = this.opts.benchItems ?? 0;
    if (n > 0) {
      const bench = ns.addFolder(addressSpace.rootFolder.objects, { browseName: 'Bench' });
      for (let i = 0; i < n; i++) {
        // every read serves a new value (its read count), so every 1 s sample is a change the
        // client must receive: a gap in an item's sequence is a lost update, not sampling aliasing
        ns.addVariable({
          organizedBy: bench,
          browseName: `b${i}`,
          nodeId: `s=bench.${i}`,
          dataType: 'Double',
          minimumSamplingInterval: 100,
          value: { get: () => new Variant({ dataType: DataType.Double, value: ++this.benchReads[i] }) },
        });
      }
    }
  }

  /** Set a test variable's value, status and source timestamp (kept across restarts). */
  setValue(name: TestVariableName, value: unknown, opts: SetValueOptions = {}): void {
    const status =
      opts.status === undefined
        ? StatusCodes.Good
        : typeof opts.status === 'string'
          ? (StatusCodes as unknown as Record<string, StatusCode>)[opts.status]
          : opts.status;
    if (!status) throw new Error(`unknown status code name ${String(opts.status)}`);
    const variant = new Variant({ dataType: TEST_VARIABLES[name].dataType, value });
    const ts = opts.sourceTimestamp ?? new Date();
    this.values.set(name, new DataValue({ value: variant, statusCode: status, sourceTimestamp: ts }));
    this.variables.get(name)?.setValueFromSource(variant, status, ts);
  }

  /** Active sessions on the server. */
  sessionCount(): number {
    return this.running ? this.server.engine.getSessions().length : 0;
  }

  subscriptionCount(): number {
    if (!this.running) return 0;
    return this.server.engine.getSessions().reduce((n, s) => n + s.publishEngine.subscriptions.length, 0);
  }

  /** How many monitored items the server holds per node id, over every session and subscription. */
  monitoredItemsByNodeId(): Map<string, number> {
    const counts = new Map<string, number>();
    if (!this.running) return counts;
    for (const session of this.server.engine.getSessions()) {
      for (const sub of session.publishEngine.subscriptions) {
        const items = (sub as unknown as { monitoredItems: Map<number, { itemToMonitor?: { nodeId?: { toString(): string } } }> })
          .monitoredItems;
        for (const mi of items.values()) {
          const id = mi.itemToMonitor?.nodeId?.toString() ?? '?';
          counts.set(id, (counts.get(id) ?? 0) + 1);
        }
      }
    }
    return counts;
  }

  monitoredItemCount(): number {
    let n = 0;
    for (const c of this.monitoredItemsByNodeId().values()) n += c;
    return n;
  }

  /** The server's own certificate file (what a client must trust). */
  certificateFile(): string {
    const dir = join(this.pkiDir, 'own', 'certs');
    const f = readdirSync(dir).find((x) => x.endsWith('.pem') || x.endsWith('.der'));
    if (!f) throw new Error(`no certificate in ${dir}`);
    return join(dir, f);
  }

  /** Shut the server down (clients see the connection close). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.server.shutdown(0);
  }

  /** Start a fresh server on the same port with the same PKI and the same variable values. */
  async restart(): Promise<void> {
    await this.stop();
    await this.startServer();
  }
}

// Script mode: a bench server in its own process.
if (require.main === module) {
  const arg = (name: string, dflt: number) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : dflt;
  };
  OpcuaTestServer.start({ benchItems: arg('--bench-items', 1000) }).then(
    (s) => {
      process.stdout.write(JSON.stringify({ port: s.port, endpointUrl: s.endpointUrl }) + '\n');
      // commands on stdin: "items" → prints the server-side monitored item count; "reads" → total reads
      process.stdin.setEncoding('utf8');
      let buf = '';
      process.stdin.on('data', (chunk: string) => {
        buf += chunk;
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const cmd = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (cmd === 'items') process.stdout.write(JSON.stringify({ items: s.monitoredItemCount(), sessions: s.sessionCount() }) + '\n');
          else if (cmd === 'reads') process.stdout.write(JSON.stringify({ reads: s.benchReads.reduce((a, b) => a + b, 0) }) + '\n');
        }
      });
      process.stdin.on('end', () => void s.stop().then(() => process.exit(0)));
      process.on('SIGTERM', () => void s.stop().then(() => process.exit(0)));
    },
    (err) => {
      process.stderr.write(String(err?.stack ?? err) + '\n');
      process.exit(1);
    },
  );
}
