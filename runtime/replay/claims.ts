/**
 * Which replayed readings an ingestion node's configuration names (see hub.ts for the rule).
 */
import type { OpcuaItem } from '../ingest/opcua-config.js';
import type { MqttIngestConfig } from '../ingest/mqtt-ingest.js';
import { compileTopicMapping, topicMapper } from '../ingest/mqtt-topic-map.js';

export type Claims = (asset: string, tag: string) => boolean;

/** twin-opcua-in: the asset/tag of one of its items. */
export function opcuaClaims(items: readonly Pick<OpcuaItem, 'asset' | 'tag'>[]): Claims {
  const names = new Set(items.map((i) => `${i.asset}/${i.tag}`));
  return (asset, tag) => names.has(`${asset}/${tag}`);
}

/**
 * twin-mqtt-in: the topic `<asset>/<tag>` (JSON, number modes) or `<asset>` (JSON object of tags)
 * matches its pattern and maps back to the same asset and tag. Sparkplug B names no topics of
 * this form, so it claims nothing (and gets every reading).
 */
export function mqttClaims(cfg: MqttIngestConfig): Claims {
  const mode = cfg.mode || 'json';
  if (mode === 'sparkplug') return () => false;
  const tagFromPayload = mode === 'json-object';
  const map = topicMapper(
    compileTopicMapping({
      pattern: (cfg.pattern ?? '').trim() || '{asset+}/{tag}',
      assetTemplate: cfg.assetTemplate,
      tagTemplate: cfg.tagTemplate,
      needsTag: !tagFromPayload,
    }),
  );
  return (asset, tag) => {
    const m = map(tagFromPayload ? asset : `${asset}/${tag}`);
    return m !== undefined && m.asset === asset && (tagFromPayload ? m.tag === undefined || m.tag === tag : m.tag === tag);
  };
}

/** The unit of a twin-opcua-in item, for readings whose file gives none. */
export function opcuaUnits(
  items: readonly Pick<OpcuaItem, 'asset' | 'tag' | 'unit'>[],
): (asset: string, tag: string) => string | undefined {
  const units = new Map(items.filter((i) => i.unit).map((i) => [`${i.asset}/${i.tag}`, i.unit]));
  return (asset, tag) => units.get(`${asset}/${tag}`);
}
