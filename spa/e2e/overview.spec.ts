// The overview: the KPI strip counts what the API has, and follows the fleet as it changes.
import { ingest } from './support/api';
import { expectAccessible } from './support/axe';
import { raiseAlert } from './support/scene';
import { expect, screenshot, signIn, test } from './support/test';

test('the KPI strip and the open alerts follow the fleet', async ({ page, pulse, admin }) => {
  await signIn(page, pulse.admin.email, pulse.admin.password);
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  // The demo fleet: five devices that never reported.
  await expect(page.getByTestId('kpi-OFFLINE')).toHaveText('5');
  await expect(page.getByTestId('kpi-ONLINE')).toHaveText('0');
  await expect(page.getByTestId('kpi-open-alerts')).toHaveText('0');
  await expect(page.getByText('No open alerts.')).toBeVisible();

  // Two devices report and one breaches a rule: the page follows without a reload.
  await ingest(pulse.baseURL, pulse.deviceTokens['meter-1']!, { power: 3.2, voltage: 230 });
  await raiseAlert(admin, pulse, 'boiler-1', 'flow_temp');
  await expect(page.getByTestId('kpi-ONLINE')).toHaveText('2', { timeout: 15_000 });
  await expect(page.getByTestId('kpi-OFFLINE')).toHaveText('3');
  await expect(page.getByTestId('kpi-open-alerts')).toHaveText('1');
  await expect(page.getByTestId('kpi-readings')).not.toHaveText('0');
  const row = page.getByRole('table', { name: 'Open alerts' }).getByRole('row').nth(1);
  await expect(row).toContainText('flow_temp 95 > 80');
  await expect(row).toContainText('boiler-1');
  await expect(row).toContainText('HIGH');
  await expectAccessible(page, 'overview');
  await screenshot(page, 'overview');

  // A KPI leads to the devices it counts.
  await page.getByTestId('kpi-OFFLINE').click();
  await expect(page).toHaveURL(/\/devices\?status=OFFLINE$/);
  await expect(page.getByTestId('device-count')).toHaveText('3 shown');
});

test('the light theme holds too', async ({ page, pulse }) => {
  await signIn(page, pulse.admin.email, pulse.admin.password);
  await page.getByRole('button', { name: /Switch to the light theme/ }).click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  await expectAccessible(page, 'overview, light theme');
  await screenshot(page, 'overview-light');
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
});
