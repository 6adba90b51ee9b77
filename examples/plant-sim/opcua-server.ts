/**
 * The simulator's OPC UA face: a node-opcua server exposing every tag as `ns=1;s=extruder.<tag>`
 * under Objects/Extruder, with source timestamps in simulated time. Setpoints are writable through
 * the PLC's hard limits; `ns=1;s=sim.fault_command` takes text commands (faults.ts).
 */
import { mkdirSync } from 'node:fs';
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
  makeEUInformation,
  standardUnits,
  type EUInformation,
  type UAVariable,
} from 'node-opcua';
import { SimError } from './faults.js';
import { TAGS, ASSET_ID, OPCUA_RESOURCE_PATH, OPCUA_NAMESPACE_URI, type TagName, type TagDef } from './tags.js';
import type { Readings } from './model.js';

export interface SimOpcuaOptions {
  port: number;
  /** Host name in the advertised endpoint URL (also bound). */
  hostname: string;
  /** Folder of the server's PKI (own/, trusted/, rejected/...); users' PKI is `<pkiDir>/users`. */
  pkiDir: string;
  /** Optional user name / password token in addition to anonymous access. */
  user?: string;
  password?: string;
  allowAnonymous: boolean;
  /** A simulator trusts any client certificate so Sign/SignAndEncrypt work without set-up. */
  acceptUnknownCertificates: boolean;
  /** Called for a setpoint write; throws SimError when the PLC refuses it. */
  onWrite(tag: TagName, value: number): void;
  /** Called for a text command written to sim.fault_command; throws SimError when refused. */
  onCommand(text: string): void;
}

export interface SimOpcuaServer {
  endpointUrl: string;
  certificateFile: string;
  publish(tsMs: number, readings: Readings): void;
  /** Refresh one tag at once (after a write), so a read straight after shows the new setpoint. */
  update(tag: TagName, value: number, tsMs: number): void;
  stop(): Promise<void>;
}

function euOf(unit: string): EUInformation | undefined {
  switch (unit) {
    case 'degC':
      return standardUnits.degree_celsius;
    case 'kW':
      return standardUnits.kilowatt;
    case 'rpm':
      return standardUnits.revolutions_per_minute;
    case 'bar':
      return standardUnits.bar;
    case 'A':
      return standardUnits.ampere;
    case '%':
      return standardUnits.percent;
    case 'mm/s':
      return makeEUInformation('mm/s', 'mm/s', 'millimetre per second');
    case 'kg/h':
      return makeEUInformation('kg/h', 'kg/h', 'kilogram per hour');
    case 'kWh':
      return makeEUInformation('kWh', 'kWh', 'kilowatt hour');
    default:
      return undefined;
  }
}

const DATA_TYPES: Record<TagDef['dataType'], DataType> = { Double: DataType.Double, Int32: DataType.Int32, UInt32: DataType.UInt32 };

function statusOfSimError(err: unknown): StatusCode {
  if (!(err instanceof SimError)) return StatusCodes.BadInternalError;
  switch (err.code) {
    case 'OUT_OF_RANGE':
      return StatusCodes.BadOutOfRange;
    case 'NOT_WRITABLE':
      return StatusCodes.BadNotWritable;
    case 'NOT_FINITE':
      return StatusCodes.BadTypeMismatch;
    default:
      return StatusCodes.BadInvalidArgument;
  }
}

export async function startOpcuaServer(opts: SimOpcuaOptions): Promise<SimOpcuaServer> {
  mkdirSync(opts.pkiDir, { recursive: true });
  const serverCertificateManager = new OPCUACertificateManager({
    rootFolder: opts.pkiDir,
    automaticallyAcceptUnknownCertificate: opts.acceptUnknownCertificates,
  });
  const userCertificateManager = new OPCUACertificateManager({
    rootFolder: join(opts.pkiDir, 'users'),
    automaticallyAcceptUnknownCertificate: false,
  });
  await serverCertificateManager.initialize();
  await userCertificateManager.initialize();

  const server = new OPCUAServer({
    port: opts.port,
    hostname: opts.hostname,
    host: opts.hostname,
    resourcePath: OPCUA_RESOURCE_PATH,
    serverCertificateManager,
    userCertificateManager,
    // The server's own namespace (index 1) carries the contract's URI.
    serverInfo: {
      applicationUri: OPCUA_NAMESPACE_URI,
      productUri: 'twinloop-plant-sim',
      applicationName: { text: 'TwinLoop plant simulator' },
    },
    buildInfo: { productName: 'TwinLoop plant simulator', manufacturerName: 'TwinLoop', softwareVersion: '0.1.0' },
    allowAnonymous: opts.allowAnonymous,
    securityModes: [MessageSecurityMode.None, MessageSecurityMode.Sign, MessageSecurityMode.SignAndEncrypt],
    securityPolicies: [
      SecurityPolicy.None,
      SecurityPolicy.Basic256Sha256,
      SecurityPolicy.Aes128_Sha256_RsaOaep,
      SecurityPolicy.Aes256_Sha256_RsaPss,
    ],
    userManager: opts.user ? { isValidUser: (u: string, p: string) => u === opts.user && p === (opts.password ?? '') } : undefined,
    isAuditing: false,
  });
  await server.initialize();

  const addressSpace = server.engine.addressSpace!;
  const ns = addressSpace.getOwnNamespace();
  const extruder = ns.addObject({ organizedBy: addressSpace.rootFolder.objects, browseName: 'Extruder', nodeId: `s=${ASSET_ID}` });

  const variables = new Map<TagName, UAVariable>();
  /** Setpoints are served from here (bound getter) so their writes go through the PLC check. */
  const setpointValues = new Map<TagName, DataValue>();

  for (const def of TAGS as readonly TagDef[]) {
    const tag = def.name as TagName;
    const dataType = DATA_TYPES[def.dataType];
    const nodeId = `s=${ASSET_ID}.${tag}`;
    const common = { componentOf: extruder, browseName: tag, nodeId, description: def.description, minimumSamplingInterval: 100 };
    let bind;
    if (def.kind === 'setpoint') {
      setpointValues.set(tag, new DataValue({ value: new Variant({ dataType, value: 0 }), statusCode: StatusCodes.UncertainInitialValue }));
      bind = {
        timestamped_get: () => setpointValues.get(tag)!,
        timestamped_set: async (dv: DataValue): Promise<StatusCode> => {
          const value: unknown = dv.value?.value; // a Variant holds any OPC UA type
          if (typeof value !== 'number') return StatusCodes.BadTypeMismatch;
          try {
            opts.onWrite(tag, value);
            return StatusCodes.Good;
          } catch (err) {
            return statusOfSimError(err);
          }
        },
      };
    }
    const v: UAVariable =
      def.dataType === 'Double' && (def.euRange || euOf(def.unit))
        ? (ns.addAnalogDataItem({
            ...common,
            dataType: 'Double',
            engineeringUnitsRange: def.euRange ?? { low: 0, high: 1e9 },
            ...(euOf(def.unit) ? { engineeringUnits: euOf(def.unit) } : {}),
            ...(bind
              ? { value: bind, accessLevel: 'CurrentRead | CurrentWrite', userAccessLevel: 'CurrentRead | CurrentWrite' }
              : { accessLevel: 'CurrentRead', userAccessLevel: 'CurrentRead' }),
          } as Parameters<typeof ns.addAnalogDataItem>[0]) as unknown as UAVariable)
        : ns.addVariable({
            ...common,
            dataType: def.dataType,
            accessLevel: 'CurrentRead',
            userAccessLevel: 'CurrentRead',
          });
    variables.set(tag, v);
  }

  // Fault injection: a writable String; its value echoes the last accepted command.
  let lastCommand = new DataValue({ value: new Variant({ dataType: DataType.String, value: '' }), statusCode: StatusCodes.Good });
  ns.addVariable({
    organizedBy: addressSpace.rootFolder.objects,
    browseName: 'SimFaultCommand',
    nodeId: 's=sim.fault_command',
    description:
      'Write a command: stuck|drift|spike|dropout <tag> ..., clear [tag], disturb <kind> <level>, set <tag> <value>, reset, maintain',
    dataType: 'String',
    accessLevel: 'CurrentRead | CurrentWrite',
    userAccessLevel: 'CurrentRead | CurrentWrite',
    minimumSamplingInterval: 100,
    value: {
      timestamped_get: () => lastCommand,
      timestamped_set: async (dv: DataValue): Promise<StatusCode> => {
        const text: unknown = dv.value?.value;
        if (typeof text !== 'string') return StatusCodes.BadTypeMismatch;
        try {
          opts.onCommand(text);
          lastCommand = new DataValue({
            value: new Variant({ dataType: DataType.String, value: text }),
            statusCode: StatusCodes.Good,
            sourceTimestamp: new Date(),
          });
          return StatusCodes.Good;
        } catch (err) {
          return statusOfSimError(err);
        }
      },
    },
  });

  await server.start();
  const endpointUrl = server.getEndpointUrl();

  function set(tag: TagName, value: number, tsMs: number, bad: boolean): void {
    const def = TAGS.find((t) => t.name === tag)!;
    const dataType = DATA_TYPES[def.dataType];
    const statusCode = bad ? StatusCodes.BadSensorFailure : StatusCodes.Good;
    const ts = new Date(tsMs);
    if (def.kind === 'setpoint') {
      setpointValues.set(
        tag,
        new DataValue({ value: new Variant({ dataType, value }), statusCode, sourceTimestamp: ts, serverTimestamp: new Date() }),
      );
      return;
    }
    variables.get(tag)!.setValueFromSource(new Variant({ dataType, value }), statusCode, ts);
  }

  return {
    endpointUrl,
    certificateFile: server.certificateFile,
    publish(tsMs, readings) {
      for (const def of TAGS) {
        const r = readings[def.name];
        set(def.name, r.value, tsMs, r.quality === 'bad');
      }
    },
    update(tag, value, tsMs) {
      set(tag, value, tsMs, false);
    },
    async stop() {
      await server.shutdown(0);
      await serverCertificateManager.dispose();
      await userCertificateManager.dispose();
    },
  };
}
