// A stand-in of an outside service (tests/standins/<script>: Slack, PagerDuty, Teams) for a spec: started on a
// free loopback port, read through its test-only /_log, stopped by PID.
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface StandIn {
  url: (pathAndQuery: string) => string;
  requests: () => Promise<Array<{ path: string; status: number; valid: boolean; problems: string[]; body: unknown }>>;
  stop: () => Promise<void>;
}

export async function startStandIn(script: string, args: string[] = []): Promise<StandIn> {
  const source = process.env.PULSE_SOURCE_DIR;
  if (!source) throw new Error('PULSE_SOURCE_DIR is not set: browser tests run from scripts/test');
  const dir = mkdtempSync(join(tmpdir(), 'pulse-e2e-standin-'));
  const logFile = join(dir, 'standin.log');
  const child = spawn('/usr/bin/python3', [`${source}/tests/standins/${script}`, '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', openSync(logFile, 'a')],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const failed = (why: string) => new Error(`${script} ${why}:\n${readFileSync(logFile, 'utf8')}`);
    const timer = setTimeout(() => reject(failed('did not start')), 15_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = /on 127\.0\.0\.1:(\d+)/.exec(out);
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
  const base = `http://127.0.0.1:${port}`;
  const pid = child.pid!;
  return {
    url: (p) => base + p,
    requests: async () => (await (await fetch(`${base}/_log`)).json()).requests,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(pid, 'SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
    },
  };
}
