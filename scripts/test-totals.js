#!/usr/bin/env node
// Adds up the jest runs of `npm test` (each written with --json --outputFile) into one closing line,
// "tests: N passed, N failed, N skipped", so a CI log ends with what ran. A run that wrote no
// results file (jest itself crashed) counts as one failure. Each failed test is named on a line of
// its own before it (a CI log is often read only from its end). For a human reading the log: stdout.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
for (const file of process.argv.slice(2)) {
  let run;
  try {
    run = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    failed += 1;
    failures.push(`a jest run wrote no results (${path.basename(file)}): it crashed or was stopped`);
    continue;
  }
  // scripts/test.sh marks a run that wrote its results but never exited (a leaked handle).
  if (fs.existsSync(`${file}.hung`)) {
    failed += 1;
    failures.push(`a jest run did not exit after its last test (${path.basename(file)}): a leaked handle`);
  }
  passed += run.numPassedTests;
  // A suite that could not run (syntax error, failing import) has no failed test of its own.
  failed += run.numFailedTests + run.numRuntimeErrorTestSuites;
  skipped += run.numPendingTests + run.numTodoTests;
  for (const suite of run.testResults) {
    const where = path.relative(process.cwd(), suite.name);
    const failedTests = suite.assertionResults.filter((test) => test.status === 'failed');
    for (const test of failedTests) failures.push(`${where} › ${test.fullName}`);
    if (failedTests.length === 0 && suite.status === 'failed') {
      // Jest's message opens with "● Test suite failed to run"; the line after it says why.
      const lines = (suite.message || '').replace(/\u001b\[[0-9;]*m/g, '').split('\n');
      const why = lines.map((line) => line.trim()).find((line) => line && !line.startsWith('●'));
      failures.push(`${where}: ${(why || 'the suite failed to run').slice(0, 200)}`);
    }
  }
}
for (const failure of failures) console.log(`failed: ${failure}`);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
