#!/usr/bin/env node
// Adds up the jest runs of `npm test` (each written with --json --outputFile) into one closing line,
// "tests: N passed, N failed, N skipped", so a CI log ends with what ran. A run that wrote no
// results file (jest itself crashed) counts as one failure. The line is for a human reading the
// CI log: plain stdout.
'use strict';
const fs = require('node:fs');

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of process.argv.slice(2)) {
  let run;
  try {
    run = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    failed += 1;
    continue;
  }
  passed += run.numPassedTests;
  // A suite that could not run (syntax error, failing import) has no failed test of its own.
  failed += run.numFailedTests + run.numRuntimeErrorTestSuites;
  skipped += run.numPendingTests + run.numTodoTests;
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
