// Runs a TypeScript entry point without a build step, each file compiled by @swc/core (a
// devDependency) as it is required:  node scripts/run-ts.js path/to/file.ts [args...]
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const swc = require('@swc/core');

require.extensions['.ts'] = (module, filename) => {
  const { code } = swc.transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    module: { type: 'commonjs' },
    jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
  });
  module._compile(code, filename);
};

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  // A command-line tool's usage, for the human who called it.
  console.error('usage: node scripts/run-ts.js file.ts [args...]');
  process.exit(2);
}
process.argv = [process.argv[0], path.resolve(entry), ...args];
require(path.resolve(entry));
