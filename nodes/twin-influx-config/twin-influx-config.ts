/**
 * twin-influx-config: one InfluxDB 1.x database (config node) shared by every twin-historian and
 * twin-history-in that names it: the `influx` client, and the disk buffer plus writer that the
 * historians write through (register/deregister as in Node-RED's core 10-mqtt.js).
 */
import type { NodeAPI } from 'node-red';
import { join } from 'node:path';
import { InfluxDB, type IPoolOptions } from 'influx';
import { TwinError } from '../../runtime/model/errors.js';
import { FileOutbox } from '../../runtime/store/file-outbox.js';
import type { InfluxPoint } from '../../runtime/store/influx-points.js';
import { historyQuery, recordsFromRaw } from '../../runtime/store/influx-query.js';
import { InfluxWriter, type WriterState } from '../../runtime/store/influx-writer.js';
import { dataPath } from '../twin-mqtt-broker/broker-config.js';
import { translator } from '../shared/i18n.js';
import { influxSettings, type TwinInfluxConfigApi, type TwinInfluxConfigDef, type TwinInfluxCredentials } from './influx-config.js';

/** The writer does the back-off; the client's own would refuse requests ("No host available") meanwhile. */
const noBackoff = {
  getDelay: () => 0,
  next() {
    return this;
  },
  reset() {
    return this;
  },
};

export default function (RED: NodeAPI): void {
  function TwinInfluxConfigNode(this: TwinInfluxConfigApi, def: TwinInfluxConfigDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const t = translator(RED._ as (key: string, vars?: Record<string, unknown>) => string, 'twin-influx-config');
    const creds = (this as unknown as { credentials?: TwinInfluxCredentials }).credentials ?? {};
    const users = new Map<string, (state: WriterState | 'error', detail: string) => void>();
    let writer: InfluxWriter | undefined;
    let client: InfluxDB | undefined;

    const broadcast = (): void => {
      if (!writer) return;
      const detail = writer.state === 'retrying' ? (writer.lastError?.message ?? '') : '';
      for (const cb of users.values()) cb(writer.state, detail);
    };

    try {
      const s = influxSettings(def, creds);
      const { username: _u, password: _p, ...shown } = s;
      node.influx = shown;
      client = new InfluxDB({
        host: s.host,
        port: s.port,
        protocol: s.protocol,
        path: s.path,
        database: s.database,
        username: s.username,
        password: s.password,
        pool: { maxRetries: 0, requestTimeout: s.timeoutMs, backoff: noBackoff } as unknown as IPoolOptions,
      });
      const db = client;
      let dbReady = !s.createDatabase;
      const userDir = (RED.settings as unknown as { userDir?: string }).userDir;
      const dir = dataPath(userDir, 'influx-buffer', node.id);
      const outbox = FileOutbox.open<InfluxPoint>(dir, { maxEntries: s.bufferMaxEntries });
      writer = new InfluxWriter({
        outbox,
        batchSize: s.batchSize,
        flushMs: s.flushMs,
        retryMinMs: s.retryMinMs,
        retryMaxMs: s.retryMaxMs,
        rejectedFile: join(dir, 'rejected.jsonl'),
        async send(points) {
          if (!dbReady) {
            // CREATE DATABASE is idempotent in InfluxDB 1.x. It needs admin rights where auth is on:
            // an answer that refuses it (not a network failure) means write to what exists.
            try {
              await db.createDatabase(s.database);
            } catch (err) {
              const status = (err as { res?: { statusCode?: number } }).res?.statusCode;
              if (status === undefined || status >= 500) throw err;
              node.warn(t('errors.createDatabase', { database: s.database, error: (err as Error).message }));
            }
            dbReady = true;
          }
          await db.writePoints(points, { precision: s.precision, ...(s.retentionPolicy ? { retentionPolicy: s.retentionPolicy } : {}) });
        },
      });
      let lastLogged = '';
      writer.on('state', (state: WriterState) => {
        if (state === 'idle' && lastLogged) {
          node.log(`${def.url}: writing again`);
          lastLogged = '';
        }
        broadcast();
      });
      writer.on('writeError', (err: Error) => {
        // One line per distinct error while the database stays away; no credentials in it.
        if (err.message !== lastLogged) node.log(`${def.url}: ${err.message} (points stay buffered)`);
        lastLogged = err.message;
      });
      writer.on('written', broadcast);
      writer.on('rejected', (points: InfluxPoint[], err: Error) => {
        node.error(t('errors.rejected', { n: points.length, error: err.message, file: join(dir, 'rejected.jsonl') }));
      });
      // Points buffered by a previous run are written even before a user registers.
      writer.start();
    } catch (err) {
      node.configError = (err as Error).message;
      node.error(t('errors.config', { error: node.configError }));
    }

    node.register = (user, onChange) => {
      users.set(user.id, onChange);
      if (node.configError) onChange('error', node.configError);
      else broadcast();
    };

    node.deregister = (user, done) => {
      users.delete(user.id);
      done();
    };

    const notConfigured = (): TwinError => new TwinError('BAD_CONFIG', t('errors.notConfigured', { error: node.configError ?? '' }));

    node.pointOptions = () => ({ precision: node.influx?.precision ?? 'ms', extraTags: node.influx?.extraTags ?? {} });

    node.write = async (points) => {
      if (!writer) throw notConfigured();
      await writer.enqueue(points);
      broadcast();
    };

    node.buffered = () => writer?.size() ?? 0;
    node.written = () => writer?.written ?? 0;

    node.query = async (req) => {
      const s = node.influx;
      if (!client || !s) throw notConfigured();
      const q = historyQuery(req, s.extraTags, s.retentionPolicy);
      let raw: unknown;
      try {
        raw = await client.queryRaw(q, { database: s.database, precision: 'u' } as Parameters<InfluxDB['queryRaw']>[1]);
      } catch (err) {
        throw new TwinError('CONNECTION', `InfluxDB query failed: ${(err as Error).message}`, { cause: err });
      }
      return recordsFromRaw(req.measurement, raw, Object.keys(s.extraTags));
    };

    node.on('close', (_removed: boolean, done: () => void) => {
      if (!writer) {
        done();
        return;
      }
      writer.close().then(done, (err: Error) => {
        node.warn(`closing ${def.url}: ${err.message}`);
        done();
      });
    });
  }

  RED.nodes.registerType('twin-influx-config', TwinInfluxConfigNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1], {
    credentials: {
      user: { type: 'text' },
      password: { type: 'password' },
    },
  });
}
