// The provisioning wizard: identity (checked as typed), tags and site, an optional rule, and the
// credentials shown once with lines to paste; the token works at once.
import { ingest } from './support/api';
import { expectAccessible } from './support/axe';
import { expect, screenshot, signIn, test } from './support/test';

test('a device is provisioned step by step and its token works at once', async ({ page, pulse, admin }) => {
  await signIn(page, pulse.admin.email, pulse.admin.password);
  await page.goto('/devices');
  await page.getByRole('link', { name: 'Provision a device' }).click();
  await page.getByLabel('Device name').fill('bad name!');
  await expect(page.getByRole('alert')).toContainText('must be 1-128 of A-Z a-z 0-9');
  await expect(page.getByRole('button', { name: 'Next' })).toBeDisabled();
  await page.getByLabel('Device name').fill('roof-sensor-7');
  await expectAccessible(page, 'provisioning: identity');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel('Tags (comma-separated)').fill('roof, north');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel('Alert when a reading of this device crosses a threshold').check();
  await page.getByLabel('Metric', { exact: true }).fill('humidity');
  await page.getByLabel('Threshold', { exact: true }).fill('70');
  await page.getByRole('button', { name: 'Create the device' }).click();

  const token = (await page.getByTestId('secret-value').textContent()) ?? '';
  expect(token).toMatch(/^pt_/);
  await expect(page.getByTestId('curl-line')).toContainText(`Authorization: Bearer ${token}`);
  await expect(page.getByTestId('mqtt-line')).toContainText("-u 'demo/roof-sensor-7'");
  await expect(page.getByTestId('mqtt-line')).toContainText("-t 'devices/demo/roof-sensor-7/telemetry'");
  await expectAccessible(page, 'provisioning: credentials');
  await screenshot(page, 'provision');
  await ingest(pulse.baseURL, token, { humidity: 55 });
  const rules = await admin.get<{ items: { name: string; scope: { kind: string } }[] }>('/api/v1/rules');
  expect(rules.items.find((r) => r.name === 'humidity on roof-sensor-7')?.scope.kind).toBe('device');

  await page.getByRole('link', { name: 'Open roof-sensor-7' }).click();
  const detail = page.getByRole('article', { name: 'roof-sensor-7' });
  await expect(detail.getByText('roof, north')).toBeVisible();
});
