/**
 * The one door to the NATS client (nats.js 3.x: transport-node, jetstream, kv). The build bundles
 * this file with those packages into dist/runtime/cluster/nats-client.js (tsup.config.ts), so the
 * installed package carries its client: they are devDependencies only, because @nats-io/nuid 3.0
 * declares engines node >= 22, and Node-RED's palette manager installs with --engine-strict, which
 * refuses such a dependency on Node 20 (the client itself runs on Node 20). Every module of
 * runtime/cluster imports the client from here, so one copy of its classes (and of `instanceof`) exists.
 */
export { connect } from '@nats-io/transport-node';
export type { ConnectionOptions, NatsConnection } from '@nats-io/transport-node';
export {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
export type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
export { Kvm } from '@nats-io/kv';
export type { KV } from '@nats-io/kv';
