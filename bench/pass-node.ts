/**
 * The baseline node of every Node-RED benchmark: a bare custom node that passes each message on
 * (`send(msg); done()`), registered as `bench-pass`. It costs what Node-RED's own message delivery
 * costs and nothing more, so a TwinLoop node's ratio to it is the node's own overhead. A `function`
 * node runs its code in a vm sandbox and clones nothing less; it is several times slower and would
 * flatter the ratio.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';

export default function (RED: NodeAPI): void {
  function BenchPass(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    this.on('input', (msg: NodeMessage, send: (m: NodeMessage) => void, done: () => void) => {
      send(msg);
      done();
    });
  }
  RED.nodes.registerType('bench-pass', BenchPass as never);
}
