// summarize.mjs DIR LOG: prints one line per scenario of a conformance run
// (from the suite's log: "✓ name: N passed, M failed" lines and the
// "Not scored for <revision>" block), the totals by scenario, and exits 1
// when a scored scenario failed. Scored scenarios read PASS, FAIL or SKIP;
// scenarios not scored read pass, skip or xfail. Results are counted in scenarios, not in
// checks; DIR is only named in the output.
import { readFileSync } from 'node:fs';

const [dir, logPath] = process.argv.slice(2);
const log = readFileSync(logPath, 'utf8').split('\n');
const scenarios = new Map();
let inNotScored = false;
for (const line of log) {
  let m = line.match(/^(✓|✗) (\S+): (\d+) passed, (\d+) failed/);
  if (m) {
    scenarios.set(m[2], { ok: m[1] === '✓', passed: +m[3], failed: +m[4], scored: true });
    continue;
  }
  if (/^Not scored for /.test(line)) {
    inNotScored = true;
    continue;
  }
  m = line.match(/^\s+(✓|✗) (\S+) \(([^)]*)\)/);
  if (inNotScored && m && scenarios.has(m[2])) {
    scenarios.get(m[2]).scored = false;
    scenarios.get(m[2]).reason = m[3];
  }
}
if (scenarios.size === 0) {
  console.error(`summarize: no scenario results in ${logPath}`);
  process.exit(1);
}
const count = { scored: [0, 0], other: [0, 0] };
// A scenario the suite does not score for the revision (an extension, a
// pending or later addition) cannot fail the run, so its failure is not
// printed as FAIL: a passing run reads as one. It is "xfail" (expected to
// fail until the suite scores it, or we implement what it needs), and a
// skip or pass is lowercase too.
for (const [name, s] of scenarios) {
  let verdict = s.ok ? (s.passed === 0 ? 'SKIP' : 'PASS') : 'FAIL';
  if (!s.scored) verdict = s.ok ? verdict.toLowerCase() : 'xfail';
  const kind = s.scored ? 'scored' : `not scored (${s.reason})`;
  console.log(`${verdict.padEnd(5)} ${name.padEnd(48)} ${String(s.passed).padStart(3)} ok ${String(s.failed).padStart(3)} failed  ${kind}`);
  const c = s.scored ? count.scored : count.other;
  c[s.ok ? 0 : 1]++;
}
const [sp, sf] = count.scored;
const [op, of] = count.other;
console.log(`\nscored: ${sp} passed, ${sf} failed (of ${sp + sf}); not scored: ${op} passed, ${of} xfail (of ${op + of}); results in ${dir}`);
process.exit(sf > 0 ? 1 : 0);
