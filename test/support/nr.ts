// node-red-node-test-helper bound to the Node-RED the project develops against (4.1.8).
import helper from 'node-red-node-test-helper';
import { join } from 'node:path';

helper.init(require.resolve('node-red'));

/** The built node module for a TwinLoop node type (tests load what ships: dist/). */
export function nodeModule(type: string): unknown {
  return require(join(__dirname, '..', '..', 'dist', 'nodes', type, `${type}.js`));
}

export { helper };
