// spa/e2e/bench/inbox-bench.mjs: one phase of tests/bench/inbox_bench.sh (not a browser test: ctest
// registers spa/e2e/*.spec.ts only). Debian's Chromium signs in to the console and opens the alert inbox;
// then, one device per breach, a breaching reading goes over MQTT (mosquitto_pub -l, connected beforehand,
// so that the connection is not timed) and the time until that device's alert row is in the inbox is taken.
//
//   node spa/e2e/bench/inbox-bench.mjs --url URL --email E --password P --tokens FILE --mqtt-port PORT
//        [--metric breach] [--gap-ms 200] [--timeout-ms 10000] [--label name]
//
// FILE holds "device <tenant>/<name> token <token>" lines, one device per breach. One clock: node's
// performance.now() when the reading is written to mosquitto_pub, and when the page reports the row (a
// MutationObserver in the page sees the row's device name in the inbox, waits for the next animation frame,
// and calls an exposed function; that call costs about a millisecond). The last line printed is JSON.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { chromium } from 'playwright-core';

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .map((a, i, all) => (a.startsWith('--') ? [a.slice(2), all[i + 1]] : null))
    .filter(Boolean),
);
const need = (k) => {
  if (!args[k]) throw new Error(`--${k} is required`);
  return args[k];
};
const url = need('url');
const mqttPort = need('mqtt-port');
const metric = args.metric ?? 'breach';
const gapMs = Number(args['gap-ms'] ?? 200);
const timeoutMs = Number(args['timeout-ms'] ?? 10_000);
const label = args.label ?? 'inbox';
const devices = [...readFileSync(need('tokens'), 'utf8').matchAll(/^device (\S+) token (\S+)$/gm)].map((m) => ({
  login: m[1],
  name: m[1].split('/').pop(),
  token: m[2],
}));
if (devices.length === 0) throw new Error('no device in the tokens file');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A publisher per device, connected (CONNACK seen in mosquitto_pub's -d output) before its reading is due.
function publisher(d) {
  // stdbuf: mosquitto_pub's -d lines go to a pipe, which stdio would buffer until exit.
  const proc = spawn(
    'stdbuf',
    ['-oL', 'mosquitto_pub', '-h', '127.0.0.1', '-p', mqttPort, '-q', '1', '-u', d.login, '-P', d.token, '-t', `devices/${d.login}/telemetry`, '-l', '-d'],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let out = '';
  const ready = new Promise((resolve, reject) => {
    const onData = (chunk) => {
      out += chunk;
      if (/received CONNACK \(0\)/.test(out)) resolve();
      else if (/CONNACK \([1-9]|Connection error|Error/i.test(out)) reject(new Error(`${d.login}: ${out.trim()}`));
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => reject(new Error(`${d.login}: mosquitto_pub exited ${code} before connecting: ${out.trim()}`)));
    setTimeout(() => reject(new Error(`${d.login}: no CONNACK within 10 s: ${out.trim()}`)), 10_000);
  });
  ready.catch(() => {}); // awaited later; keep an early failure from being unhandled
  return { proc, ready };
}

const browser = await chromium.launch({
  executablePath: process.env.PULSE_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});
const result = { label, devices: devices.length, latencies_ms: [], timeouts: [] };
const publishers = new Map();
try {
  const context = await browser.newContext({ baseURL: url, viewport: { width: 1280, height: 720 }, colorScheme: 'dark' });
  const page = await context.newPage();
  const seen = new Map(); // device name -> performance.now() when the page reported its row
  const waiters = new Map(); // device name -> resolve
  await page.exposeFunction('__inboxSeen', (name) => {
    const at = performance.now();
    if (!seen.has(name)) seen.set(name, at);
    waiters.get(name)?.(at);
  });
  await page.addInitScript(() => {
    const reported = new Set();
    const scan = () => {
      for (const a of document.querySelectorAll('table[aria-label="Alerts"] tbody tr[data-testid^="alert-"] td:nth-child(4) a')) {
        const name = a.textContent;
        if (!name || reported.has(name)) continue;
        if (typeof a.checkVisibility === 'function' && !a.checkVisibility()) continue;
        reported.add(name);
        requestAnimationFrame(() => window.__inboxSeen(name));
      }
    };
    new MutationObserver(scan).observe(document, { childList: true, subtree: true, characterData: true });
  });

  await page.goto('/sign-in');
  await page.getByLabel('E-mail').fill(need('email'));
  await page.getByLabel('Password').fill(need('password'));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  await page.goto('/alerts');
  await page.getByRole('table', { name: 'Alerts' }).waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid="live"]')?.textContent === 'live', null, { timeout: 15_000 });

  const AHEAD = 3;
  for (let i = 0; i < Math.min(AHEAD, devices.length); i++) publishers.set(i, publisher(devices[i]));
  await sleep(1000);
  const started = performance.now();
  for (let i = 0; i < devices.length; i++) {
    const d = devices[i];
    const pub = publishers.get(i);
    await pub.ready;
    if (seen.has(d.name)) throw new Error(`${d.name} was in the inbox before its reading: one fresh device per breach`);
    const arrived = new Promise((resolve) => waiters.set(d.name, resolve));
    const sent = performance.now();
    pub.proc.stdin.write(JSON.stringify({ ts: Date.now(), [metric]: 1 }) + '\n');
    const at = await Promise.race([arrived, sleep(timeoutMs).then(() => null)]);
    waiters.delete(d.name);
    if (at === null) result.timeouts.push(d.name);
    else result.latencies_ms.push(Math.round((at - sent) * 10) / 10);
    pub.proc.stdin.end();
    publishers.delete(i);
    if (i + AHEAD < devices.length) publishers.set(i + AHEAD, publisher(devices[i + AHEAD]));
    await sleep(gapMs);
  }
  result.seconds = Math.round((performance.now() - started) / 100) / 10;
} finally {
  for (const p of publishers.values()) p.proc.kill();
  await browser.close();
}

const sorted = [...result.latencies_ms].sort((a, b) => a - b);
const pick = (q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] : null);
Object.assign(result, { count: sorted.length, p50_ms: pick(0.5), p99_ms: pick(0.99), max_ms: sorted.at(-1) ?? null });
console.log(JSON.stringify(result));
