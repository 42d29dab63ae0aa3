// A real pulsed for one spec file: its own database on the test stack's PostgreSQL (created here, dropped
// afterwards), the demo tenant seeded by `pulsed --seed-demo`, the console from spa/dist, and HTTP ingest.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Pulse {
  baseURL: string;
  admin: { email: string; password: string };
  tenant: string;
  deviceTokens: Record<string, string>; // the demo fleet's, by device name
  logFile: string;
  database: string; // this pulsed's own, on the test stack's PostgreSQL
  stop: () => Promise<void>;
}

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: browser tests run from scripts/test (or ctest with its environment)`);
  return v;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function withDatabase(conninfo: string, db: string): string {
  return /dbname=\S+/.test(conninfo) ? conninfo.replace(/dbname=\S+/, `dbname=${db}`) : `${conninfo} dbname=${db}`;
}

export function superuserSql(sql: string): void {
  execFileSync(
    'psql',
    ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', need('PULSE_TEST_PG_SOCKET'), '-p', need('PULSE_TEST_PG_PORT'), '-U', 'postgres', '-d', 'postgres', '-c', sql],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, PGOPTIONS: '-c client_min_messages=warning' } },
  );
}

export interface PulseOptions {
  demoHistory?: boolean;
  port?: number; // when something must know the console's origin before pulsed starts (an OIDC provider)
  extraConfig?: string[]; // more pulse.properties lines, e.g. 'oidc.issuer = ...'
}

export async function startPulse(name: string, options: PulseOptions = {}): Promise<Pulse> {
  const source = need('PULSE_SOURCE_DIR');
  const db = `e2e_${name.replace(/\W+/g, '_').toLowerCase()}_${process.pid}`;
  superuserSql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  superuserSql(`CREATE DATABASE ${db} OWNER pulse_owner`);

  const dir = mkdtempSync(join(tmpdir(), `pulse-e2e-${name}-`));
  const pluginsD = join(dir, 'plugins.d');
  mkdirSync(pluginsD);
  writeFileSync(
    join(pluginsD, 'http.properties'),
    'plugin.library = ingest_http.so\ninstance.http.component = ingest/http\ninstance.http.config = {"commit_wait_ms": 10000}\n',
  );
  writeFileSync(join(pluginsD, 'threshold.properties'), 'plugin.library = rule_threshold.so\n');
  writeFileSync(join(pluginsD, 'heartbeat.properties'), 'plugin.library = rule_heartbeat.so\n');
  writeFileSync(join(pluginsD, 'webhook.properties'), 'plugin.library = sender_webhook.so\n');
  writeFileSync(join(pluginsD, 'log.properties'), 'plugin.library = sender_log.so\n'); // the demo's channel
  for (const sender of ['slack', 'pagerduty', 'teams', 'smtp', 'mqtt', 'snmp']) writeFileSync(join(pluginsD, `${sender}.properties`), `plugin.library = sender_${sender}.so\n`);
  writeFileSync(join(dir, 'secrets.key'), '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n');
  const port = options.port ?? (await freePort());
  const config = join(dir, 'pulse.properties');
  writeFileSync(
    config,
    [
      'http.address = 127.0.0.1',
      `http.port = ${port}`,
      `http.spa_dir = ${source}/spa/dist`,
      `db.migrations_dir = ${source}/sql`,
      'db.startup_timeout_s = 20',
      `plugins.path = ${need('PULSE_E2E_PLUGIN_DIR')}`,
      `plugins.config_dir = ${pluginsD}`,
      `secrets.key_file = ${dir}/secrets.key`,
      'egress.allow = 127.0.0.1/32',
      'status.flush_ms = 200',
      // Each spec sets its own scene on an empty demo tenant, unless it looks at the demo itself.
      `demo.history = ${options.demoHistory ? 'true' : 'false'}`,
      ...(options.extraConfig ?? []),
    ].join('\n') + '\n',
  );

  const env: NodeJS.ProcessEnv = { ...process.env };
  env.PULSE_DB_URI = withDatabase(need('PULSE_DB_URI'), db);
  env.PULSE_DB_MIGRATE_URI = withDatabase(need('PULSE_DB_MIGRATE_URI'), db);
  // This database's devices are not the broker's: the shared password file stays the other tests'.
  for (const v of ['PULSE_MQTT_PASSWORD_FILE', 'PULSE_MQTT_PASSWORD_BASE_FILE', 'PULSE_MQTT_BROKER_PID_FILE']) delete env[v];
  // The harness's own variables are not pulsed settings (pulsed warns of PULSE_* names it does not know).
  for (const v of Object.keys(env)) if (v.startsWith('PULSE_E2E_') || v === 'PULSE_SOURCE_DIR') delete env[v];
  const admin = { email: 'admin@demo.test', password: 'console-test-password' };
  env.PULSE_DEMO_EMAIL = admin.email;
  env.PULSE_DEMO_PASSWORD = admin.password;

  const pulsed = need('PULSE_E2E_PULSED');
  let seeded: string;
  try {
    seeded = execFileSync(pulsed, ['--config', config, '--seed-demo'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const failed = e as { stdout?: string; stderr?: string };
    throw new Error(`pulsed --seed-demo failed:\n${failed.stdout ?? ''}${failed.stderr ?? ''}`);
  }
  const deviceTokens: Record<string, string> = {};
  for (const m of seeded.matchAll(/^device (\S+) token (\S+)$/gm)) deviceTokens[m[1]!.split('/').pop()!] = m[2]!;

  const logFile = join(dir, 'pulsed.log');
  const out = openSync(logFile, 'a');
  const child: ChildProcess = spawn(pulsed, ['--config', config], { env, stdio: ['ignore', out, out] });
  const baseURL = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`pulsed exited (${child.exitCode}):\n${readFileSync(logFile, 'utf8')}`);
    try {
      if ((await fetch(`${baseURL}/health/live`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`pulsed did not start:\n${readFileSync(logFile, 'utf8')}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    superuserSql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  };
  return { baseURL, admin, tenant: 'demo', deviceTokens, logFile, database: db, stop };
}
