// The fixtures every browser test uses: one pulsed per spec file, a page watched for console errors and
// failed requests (the test fails on any it did not declare), and screenshots for docs/ui.md.
import { test as base, expect, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ApiClient } from './api';
import { freePort, startPulse, type Pulse } from './pulse';

export interface Watch {
  // An API status the test provokes on purpose (a wrong password's 401, a customer's 403, ...).
  allowStatus: (...statuses: number[]) => void;
}

interface Fixtures {
  watch: Watch;
}

interface WorkerFixtures {
  demoHistory: boolean; // test.use({ demoHistory: true }): the demo as scripts/run seeds it
  pulseConfig: string[]; // test.use({ pulseConfig: [...] }): more pulse.properties lines
  pulsePort: number; // pulsed's port, chosen before it starts (so a fixture may know the console's origin)
  pulse: Pulse;
  admin: ApiClient; // the demo tenant's tenant-admin, over the API
}

export const test = base.extend<Fixtures, WorkerFixtures>({
  demoHistory: [false, { scope: 'worker', option: true }],
  pulseConfig: [[], { scope: 'worker', option: true }],
  pulsePort: [async ({}, use) => use(await freePort()), { scope: 'worker' }],
  pulse: [
    async ({ demoHistory, pulseConfig, pulsePort }, use, workerInfo) => {
      const name = workerInfo.project.name || 'console';
      const pulse = await startPulse(`${name}_${process.env.PULSE_E2E_SPEC ?? 'spec'}`, {
        demoHistory,
        extraConfig: pulseConfig,
        port: pulsePort,
      });
      await use(pulse);
      await pulse.stop();
    },
    { scope: 'worker', timeout: 90_000 },
  ],
  baseURL: async ({ pulse }, use) => use(pulse.baseURL),
  admin: [
    async ({ pulse }, use) => {
      const client = await ApiClient.signIn(pulse.baseURL, pulse.admin.email, pulse.admin.password);
      await use(client);
      await client.dispose();
    },
    { scope: 'worker' },
  ],
  watch: [
    async ({ page }, use) => {
    const allowed = new Set<number>();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      const status = /status of (\d{3})/.exec(m.text());
      const url = m.location().url;
      // Asking whether a session exists answers 401 when none does: that is how the console learns it.
      if (status && (allowed.has(Number(status[1])) || (status[1] === '401' && url.endsWith('/api/v1/session')))) return;
      problems.push(`console error: ${m.text()} (${url})`);
    });
    page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
    page.on('requestfailed', (r) => {
      const failure = r.failure()?.errorText ?? '';
      if (failure === 'net::ERR_ABORTED') return; // a query cancelled when its page closed
      problems.push(`request failed: ${r.method()} ${r.url()} ${failure}`);
    });
    await use({ allowStatus: (...s) => s.forEach((x) => allowed.add(x)) });
    expect(problems, 'console errors and failed requests').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

// Signs in through the page, as a person would.
export async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/sign-in');
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
}

// A screenshot for docs/ui.md, when scripts/ui-screenshots asks for them.
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.PULSE_UI_SCREENSHOTS;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: false });
}
