// LOCAL STAND-IN, for scripts/validate-package.ts only: node-red-dev 0.1.6 fetches
// https://catalogue.nodered.org/catalogue.json for two checks (P08 "similar package name",
// N01 "node type names unique in the catalogue") and aborts the whole run when that host is
// unreachable. Loaded with `node --require`, this answers ONLY that URL with an empty catalogue
// (and says so on stderr), so every other check still runs against the real npm registry.
// With an empty catalogue P08 and N01 pass vacuously: they are NOT checked by this run.
'use strict';
const Module = require('node:module');

const CATALOGUE = /^https?:\/\/catalogue\.nodered\.org\//;
const originalLoad = Module._load;
let patched = false;

Module._load = function (request, parent, _isMain) {
  const exported = originalLoad.apply(this, arguments);
  if (request === 'axios' && !patched && parent && /[\\/]node-red-dev[\\/]/.test(parent.filename)) {
    patched = true;
    const realGet = exported.get.bind(exported);
    exported.get = function (url, ...rest) {
      if (typeof url === 'string' && CATALOGUE.test(url)) {
        process.stderr.write(`[catalogue stand-in] ${url} not fetched (unreachable here): empty catalogue, P08/N01 NOT checked\n`);
        return Promise.resolve({ data: { modules: [] } });
      }
      return realGet(url, ...rest);
    };
  }
  return exported;
};
