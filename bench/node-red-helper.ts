/**
 * node-red-node-test-helper wraps Node.prototype.send/status/log/... in sinon spies that record every
 * call with its arguments. That is test instrumentation, not Node-RED, and in a benchmark it costs
 * more than the nodes being measured (and grows memory without bound), so benches remove it.
 */
interface TestHelperLike {
  _sandbox: { restore(): void };
  _NodePrototype: { send: unknown };
  getNode(id: string): { send?: unknown } | null;
}

const isSpy = (f: unknown): boolean => typeof (f as { callCount?: unknown })?.callCount === 'number';

/** Call after `helper.load(...)`; throws if a spy is still in place on any of the flow's nodes. */
export function dropTestHelperSpies(helper: TestHelperLike, nodeIds: string[]): void {
  helper._sandbox.restore();
  // A wired node keeps its own copy of Node.prototype.send (taken while the spy was in place).
  const proto = helper._NodePrototype;
  for (const id of nodeIds) {
    const node = helper.getNode(id);
    if (node && Object.hasOwn(node, 'send') && isSpy(node.send)) node.send = proto.send;
  }
  if (isSpy(proto.send) || nodeIds.some((id) => isSpy(helper.getNode(id)?.send))) throw new Error('test-helper spies still in place');
}
