// Specs are TypeScript, loaded through tsx. Node specs load the built nodes from dist/
// (what ships), so `npm test` builds first.
module.exports = {
  require: ['tsx/cjs', './test/support/root-hooks.ts'],
  timeout: 30000,
  exit: true,
  reporter: 'spec',
};
