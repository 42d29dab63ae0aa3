// The console's browser tests: Debian's Chromium (never a downloaded browser) against a real pulsed on the
// test stack's PostgreSQL, one pulsed and database per spec file (support/pulse.ts). ctest runs each spec
// as its own test (spa/e2e/run.sh).
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.ts',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  outputDir: process.env.PULSE_E2E_OUTPUT ?? '/tmp/pulse-e2e-results',
  use: {
    viewport: { width: 1280, height: 720 },
    colorScheme: 'dark',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.PULSE_CHROMIUM ?? '/usr/bin/chromium',
      // No background traffic: this machine reaches only loopback.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-dev-shm-usage',
      ],
    },
  },
});
