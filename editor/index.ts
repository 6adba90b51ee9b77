/**
 * TwinLoop's editor script: one copy of the dialog widgets every node's edit dialog uses, built to
 * resources/twinloop-editor.js, which Node-RED serves at resources/@twinloop/node-red-twin/ and
 * each node's HTML loads (Node-RED loads a module's scripts before its node definitions run).
 */
import { clusterLineValid } from './cluster-line.js';
import { durationInput } from './duration-input.js';
import { errorLine } from './json-error.js';
import { colours, liveCheck, weekGrid } from './week-grid.js';

const api = { durationInput, weekGrid, colours, liveCheck, errorLine, clusterLineValid };
declare global {
  interface Window {
    TwinLoopEditor?: typeof api;
  }
}
// Every node set loads the script: the first copy wins (a dialog open at a reload keeps working).
window.TwinLoopEditor = window.TwinLoopEditor ?? api;
