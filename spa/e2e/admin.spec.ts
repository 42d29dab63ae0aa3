// The tenant's administration: sites with a time zone, users (role, disable), API keys shown once, the
// metric catalog, the audit log; a customer is not offered them, and the API's 403 shows if reached anyway.
import { ingest } from './support/api';
import { expectAccessible } from './support/axe';
import { expect, screenshot, signIn, test } from './support/test';

test('sites, users, API keys, metrics and the audit log', async ({ page, pulse }) => {
  await ingest(pulse.baseURL, pulse.deviceTokens['meter-1']!, { energy: 1234.5 });
  await signIn(page, pulse.admin.email, pulse.admin.password);
  const nav = page.getByRole('navigation', { name: 'Main' });

  await nav.getByRole('link', { name: 'Sites' }).click();
  await page.getByLabel('Name').fill('Plant A');
  await page.getByLabel('Time zone', { exact: true }).selectOption('Europe/Berlin');
  await page.getByRole('button', { name: 'Add site' }).click();
  const site = page.getByRole('table', { name: 'Sites' }).getByRole('row').filter({ hasText: 'Plant A' });
  await expect(site.getByLabel('Time zone of Plant A')).toHaveValue('Europe/Berlin');
  await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().includes('/api/v1/sites/')),
    site.getByLabel('Time zone of Plant A').selectOption('Asia/Tokyo'),
  ]);
  await page.reload();
  await expect(page.getByLabel('Time zone of Plant A')).toHaveValue('Asia/Tokyo');
  await expectAccessible(page, 'sites');

  await nav.getByRole('link', { name: 'Users' }).click();
  await page.getByLabel('E-mail').fill('operator@demo.test');
  await page.getByLabel('Name', { exact: true }).fill('Night shift');
  await page.getByLabel('Password (12 or more)').fill('night-shift-password');
  await page.getByRole('button', { name: 'Add user' }).click();
  const user = page.getByRole('table', { name: 'Users' }).getByRole('row').filter({ hasText: 'operator@demo.test' });
  await expect(user.getByLabel('Role of operator@demo.test')).toHaveValue('customer');
  await user.getByLabel('Role of operator@demo.test').selectOption('tenant-admin');
  await user.getByRole('button', { name: 'Disable operator@demo.test' }).click();
  await expect(user).toContainText('disabled');
  await expectAccessible(page, 'users');
  await screenshot(page, 'users');

  await nav.getByRole('link', { name: 'API keys' }).click();
  await page.getByLabel('Name').fill('ci pipeline');
  await page.getByRole('button', { name: 'Create key' }).click();
  await expect(page.getByTestId('secret-value')).toHaveText(/^pk_/);
  const key = page.getByRole('table', { name: 'API keys' }).getByRole('row').filter({ hasText: 'ci pipeline' });
  await key.getByRole('button', { name: 'Revoke ci pipeline' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
  await expect(key).toContainText('revoked');
  await expectAccessible(page, 'API keys');

  await nav.getByRole('link', { name: 'Metrics' }).click();
  const metric = page.getByRole('table', { name: 'Metrics' }).getByRole('row').filter({ hasText: 'energy' });
  await expect(metric).toContainText('1234.5');
  await metric.getByLabel('Unit of energy').fill('kWh');
  await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().includes('/api/v1/metrics/')),
    metric.getByLabel('Description of energy').click(), // leaving the unit saves it
  ]);
  await page.reload();
  await expect(page.getByLabel('Unit of energy')).toHaveValue('kWh');
  await expectAccessible(page, 'metrics');

  await nav.getByRole('link', { name: 'Audit log' }).click();
  const audit = page.getByRole('table', { name: 'Audit log' });
  await expect(audit).toContainText('site.create');
  await page.getByLabel('Action starts with').fill('session.');
  await expect(audit).toContainText('session.login');
  await expect(audit).not.toContainText('site.create');
  await expectAccessible(page, 'audit log');
  await screenshot(page, 'audit');
});

test("a customer is not offered the administration, and reaching it shows the API's 403", async ({ page, admin, watch }) => {
  watch.allowStatus(403);
  await admin.post('/api/v1/users', { email: 'reader@demo.test', role: 'customer', password: 'reader-password-1' });
  await signIn(page, 'reader@demo.test', 'reader-password-1');
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('link', { name: 'Rules' })).toBeVisible();
  for (const hidden of ['Users', 'API keys', 'Audit log']) await expect(nav.getByRole('link', { name: hidden })).toHaveCount(0);
  await page.goto('/audit');
  await expect(page.getByRole('alert')).toContainText('Not allowed');
  await page.goto('/rules');
  await expect(page.getByRole('button', { name: 'New rule' })).toHaveCount(0);
});
