// The API's problems the other specs do not meet, as a person meets them: a body too large (413) and the
// database gone (503), each shown next to what caused it with nothing typed lost, then the console at the
// smallest desktop it is made for (1280x720).
import { expectAccessible } from './support/axe';
import { superuserSql } from './support/pulse';
import { expect, screenshot, signIn, test } from './support/test';

test('a CSV larger than the server takes is refused with its 413, the preview kept', async ({ page, pulse, watch }) => {
  watch.allowStatus(413);
  // About 1.3 MB (the limit is http.max_body_bytes, 1 MiB): a thousand devices with many long tags.
  const tags = Array.from({ length: 30 }, (_, i) => `tag-${String(i).padStart(2, '0')}-${'x'.repeat(32)}`).join(';');
  const lines = ['name,tags,site', ...Array.from({ length: 1000 }, (_, i) => `big-${String(i).padStart(4, '0')}-${'y'.repeat(90)},${tags},`)];
  await signIn(page, pulse.admin.email, pulse.admin.password);
  await page.goto('/devices/import');
  await page.getByLabel('CSV file').setInputFiles({ name: 'large.csv', mimeType: 'text/csv', buffer: Buffer.from(lines.join('\n') + '\n') });
  await expect(page.getByTestId('import-summary')).toContainText('1000 devices, no problem found');
  await page.getByRole('button', { name: 'Import 1000 devices' }).click();
  await expect(page.getByRole('alert')).toContainText('larger than the limit of 1048576 bytes');
  // Nothing was imported and the file's preview is still there to split and retry.
  await expect(page.getByTestId('import-summary')).toContainText('1000 devices');
  await expect(page.getByRole('button', { name: 'Import 1000 devices' })).toBeEnabled();
  await screenshot(page, 'problem-413');
});

test('with the database gone a change is refused with its 503 and goes through once it is back', async ({ page, pulse, watch }) => {
  watch.allowStatus(503);
  await signIn(page, pulse.admin.email, pulse.admin.password);
  await page.goto('/sites');
  const form = page.getByRole('form', { name: 'New site' });
  await form.getByLabel('Name').fill('Plant West');
  // This pulsed's database refuses connections and loses the ones it had: a real outage, for this pulsed only.
  superuserSql(`ALTER DATABASE ${pulse.database} ALLOW_CONNECTIONS false`);
  try {
    superuserSql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${pulse.database}'`);
    await form.getByRole('button', { name: 'Add site' }).click();
    await expect(page.getByRole('alert')).toContainText('the database is unavailable; retry shortly');
    await expect(form.getByLabel('Name')).toHaveValue('Plant West');
    await screenshot(page, 'problem-503');
  } finally {
    superuserSql(`ALTER DATABASE ${pulse.database} ALLOW_CONNECTIONS true`);
  }
  await expect
    .poll(
      async () => {
        await form.getByRole('button', { name: 'Add site' }).click();
        return page.getByRole('table', { name: 'Sites' }).getByText('Plant West').count();
      },
      { timeout: 20_000, intervals: [1000] },
    )
    .toBeGreaterThan(0);
});

test('every page holds its layout at 1280x720: nothing wider than the window, the navigation in view', async ({ page, pulse }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await signIn(page, pulse.admin.email, pulse.admin.password);
  for (const path of ['/', '/devices', '/devices/new', '/devices/import', '/alerts', '/rules', '/channels', '/on-call', '/escalation', '/maintenance', '/sites', '/users', '/api-keys', '/metric-catalog', '/audit', '/settings']) {
    await page.goto(path);
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${path} is ${overflow}px wider than the window`).toBeLessThanOrEqual(0);
    await expect(page.getByRole('navigation', { name: 'Main' })).toBeInViewport();
  }
  await expectAccessible(page, 'settings at 1280x720');
});
