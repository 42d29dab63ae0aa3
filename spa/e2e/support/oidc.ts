// The OpenID Connect provider stand-in (tests/standins/oidc_provider.py) for a spec: started on a free
// loopback port with the console as its one client, stopped by its PID; and the pulsed settings that trust it.
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface IdpUser {
  email: string;
  password: string;
  role: string;
  tenant: string;
  expiresInS?: number; // the tokens' lifetime for this user (default one hour)
}

export interface Idp {
  issuer: string;
  clientId: string;
  audience: string;
  pid: number;
  logFile: string;
  pulseConfig: (displayName: string) => string[]; // pulse.properties lines for this issuer
  stop: () => Promise<void>;
}

export async function startIdp(options: { consoleOrigin: string; users: IdpUser[]; name?: string }): Promise<Idp> {
  const source = process.env.PULSE_SOURCE_DIR;
  if (!source) throw new Error('PULSE_SOURCE_DIR is not set: browser tests run from scripts/test');
  const clientId = 'pulse-console';
  const audience = 'pulse-api';
  const args = [
    `${source}/tests/standins/oidc_provider.py`,
    '--port', '0',
    '--audience', audience,
    '--client', `${clientId}=${options.consoleOrigin}/sign-in/callback`,
    '--name', options.name ?? 'Test IdP',
  ];
  for (const u of options.users) {
    args.push('--user', [u.email, u.password, u.role, u.tenant, ...(u.expiresInS ? [u.expiresInS] : [])].join(':'));
  }
  const logFile = join(mkdtempSync(join(tmpdir(), 'pulse-e2e-idp-')), 'oidc_provider.log');
  // Debian's Python, with python3-cryptography (scripts/lib.sh installs it), as the other stand-ins run.
  const child = spawn('/usr/bin/python3', args, { stdio: ['ignore', 'pipe', openSync(logFile, 'a')] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const failed = (why: string) => new Error(`the OIDC stand-in ${why}:\n${readFileSync(logFile, 'utf8')}`);
    const timer = setTimeout(() => reject(failed('did not start')), 15_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = /^(\d+)\n/.exec(out);
      if (line) {
        clearTimeout(timer);
        resolve(Number(line[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(failed(`exited (${code})`));
    });
  });
  const issuer = `http://127.0.0.1:${port}`;
  const pid = child.pid!;

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    process.kill(pid, 'SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
  };
  const pulseConfig = (displayName: string) => [
    `oidc.issuer = ${issuer}`,
    `oidc.audience = ${audience}`,
    `oidc.jwks_uri = ${issuer}/jwks`,
    `oidc.console_client_id = ${clientId}`,
    `oidc.display_name = ${displayName}`,
    'oidc.role_claim = pulse_role',
    'oidc.tenant_claim = pulse_tenant',
    'oidc.leeway_s = 0',
  ];
  return { issuer, clientId, audience, pid, logFile, pulseConfig, stop };
}
