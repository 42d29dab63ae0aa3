// Prints the initial JavaScript (the entry and the modules index.html preloads) gzipped, and fails the
// build above the budget: the console must open fast on a wall screen's modest machine.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';

const BUDGET_KB = 250;
const dist = new URL('../dist/', import.meta.url).pathname;
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const scripts = [...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*rel="modulepreload"[^>]*\shref)="\/([^"]+\.js)"/g)].map(
  (m) => m[1],
);
let total = 0;
for (const file of new Set(scripts)) {
  const bytes = gzipSync(readFileSync(join(dist, file)), { level: 9 }).length;
  total += bytes;
  console.log(`  ${file}: ${(bytes / 1024).toFixed(1)} KB gzipped`);
}
const kb = total / 1024;
console.log(`initial JavaScript: ${kb.toFixed(1)} KB gzipped (budget ${BUDGET_KB} KB)`);
if (scripts.length === 0) throw new Error('index.html loads no script: the build is broken');
if (kb > BUDGET_KB) {
  console.error(`initial JavaScript is over the ${BUDGET_KB} KB budget`);
  process.exit(1);
}
