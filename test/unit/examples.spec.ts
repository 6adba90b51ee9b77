/**
 * The Import-menu examples (Node-RED lists every `examples/**\/*.json` of a package): each is a flow
 * that imports cleanly (unique ids, wires, tabs, scopes and config nodes that exist), together they
 * use every non-config TwinLoop node, and every TwinLoop node in them is explained by a comment node
 * on its own tab that names its type (e.g. `twin-drift`).
 */
import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const EXAMPLES = join(ROOT, 'examples');

type FlowNode = {
  id: string;
  type: string;
  z?: string;
  name?: string;
  info?: string;
  wires?: string[][];
  scope?: unknown;
  links?: unknown;
} & Record<string, unknown>;

function jsonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? jsonFiles(p) : f.endsWith('.json') ? [p] : [];
  });
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
const nodeTypes = Object.keys(pkg['node-red'].nodes);
const html = (type: string) => readFileSync(join(ROOT, 'nodes', type, `${type}.html`), 'utf8');
const isConfig = (type: string) => /category:\s*['"]config['"]/.test(html(type));
const nonConfigTypes = nodeTypes.filter((t) => !isConfig(t));
const configTypes = new Set(nodeTypes.filter(isConfig));

/** Properties of a TwinLoop node that hold a config node's id: `prop: { type: 'twin-…'` in its editor defaults. */
function configProps(type: string): Map<string, string> {
  const props = new Map<string, string>();
  for (const m of html(type).matchAll(/(\w+):\s*\{[^{}]*?\btype:\s*['"](twin-[\w-]+)['"]/g)) props.set(m[1], m[2]);
  return props;
}

const files = jsonFiles(EXAMPLES);
const flows = new Map<string, FlowNode[]>();
for (const f of files) {
  try {
    const parsed: unknown = JSON.parse(readFileSync(f, 'utf8'));
    if (Array.isArray(parsed)) flows.set(relative(ROOT, f), parsed as FlowNode[]);
  } catch {
    // reported by the first test
  }
}

describe('examples (Import menu)', function () {
  it('finds the example flows and every TwinLoop node type', function () {
    expect(files.length).to.be.greaterThan(0);
    expect(nonConfigTypes).to.include.members(['twin-screen', 'twin-historian', 'twin-history-in']);
    expect([...configTypes]).to.include.members(['twin-mqtt-broker', 'twin-influx-config', 'twin-tariff']);
  });

  it('every .json under examples/ is a flow (an array of nodes) the Import menu can import', function () {
    const notFlows = files.map((f) => relative(ROOT, f)).filter((f) => !flows.has(f));
    expect(notFlows, 'JSON files the Import menu lists but cannot import (move them out of examples/)').to.deep.equal([]);
  });

  it('uses every non-config node of package.json in some example', function () {
    const used = new Set([...flows.values()].flatMap((flow) => flow.map((n) => n.type)));
    expect(
      nonConfigTypes.filter((t) => !used.has(t)),
      'node types in no example',
    ).to.deep.equal([]);
  });

  for (const [file, flow] of flows) {
    describe(file, function () {
      const byId = new Map(flow.map((n) => [n.id, n]));
      const tabs = new Set(flow.filter((n) => n.type === 'tab' || n.type === 'subflow').map((n) => n.id));

      it('has nodes with unique string ids and a type, on tabs of this file', function () {
        expect(flow.length).to.be.greaterThan(0);
        for (const n of flow) {
          expect(n.id, JSON.stringify(n).slice(0, 80)).to.be.a('string').and.not.equal('');
          expect(n.type, n.id).to.be.a('string').and.not.equal('');
          if (n.z !== undefined) expect(tabs.has(n.z), `${n.id}: tab ${n.z}`).to.equal(true);
        }
        expect(byId.size, 'unique ids').to.equal(flow.length);
        expect(tabs.size, 'at least one tab').to.be.greaterThan(0);
      });

      it('wires, scopes and links point at nodes of this file', function () {
        for (const n of flow) {
          for (const target of (n.wires ?? []).flat()) expect(byId.has(target), `${n.id} wired to ${target}`).to.equal(true);
          for (const key of ['scope', 'links'] as const) {
            const ids = n[key];
            if (Array.isArray(ids)) for (const id of ids) expect(byId.has(String(id)), `${n.id}.${key} → ${id}`).to.equal(true);
          }
        }
      });

      it('references config nodes that exist in this file, of the right type', function () {
        for (const n of flow.filter((x) => nodeTypes.includes(x.type))) {
          for (const [prop, type] of configProps(n.type)) {
            const ref = n[prop];
            if (ref === undefined || ref === '') continue; // optional references (e.g. an envelope on a writer) are checked by the node
            const target = byId.get(String(ref));
            expect(target, `${n.id}.${prop} → ${String(ref)}`).to.not.equal(undefined);
            expect(target?.type, `${n.id}.${prop}`).to.equal(type);
            expect(configTypes.has(type), `${type} is a config node`).to.equal(true);
          }
        }
      });

      it('explains every TwinLoop node in a comment node on its tab that names its type', function () {
        const unexplained = flow
          .filter((n) => nonConfigTypes.includes(n.type))
          .filter(
            (n) =>
              !flow.some(
                (c) => c.type === 'comment' && c.z === n.z && new RegExp(`\\b${n.type}\\b`).test(`${c.name ?? ''}\n${c.info ?? ''}`),
              ),
          )
          .map((n) => `${n.id} (${n.type})`);
        expect(unexplained).to.deep.equal([]);
      });

      it('documents every ${ENV_VAR} it uses in a tab description or a comment', function () {
        const isDoc = (n: FlowNode) => n.type === 'tab' || n.type === 'comment';
        // Node-RED substitutes a property whose whole value is ${NAME}
        const used = new Set([...JSON.stringify(flow.filter((n) => !isDoc(n))).matchAll(/"\$\{(\w+)\}"/g)].map((m) => m[1]));
        const docs = flow
          .filter(isDoc)
          .map((n) => `${n.name ?? ''} ${n.info ?? ''}`)
          .join('\n');
        expect([...used].filter((v) => !docs.includes(v))).to.deep.equal([]);
      });
    });
  }
});
