// The demo as scripts/run seeds it: the console is not empty on first sight (sites, a week of readings, a
// device breaching now, one silent, open and acknowledged alerts).
import { expectAccessible } from './support/axe';
import { deviceByName } from './support/scene';
import { expect, screenshot, signIn, test } from './support/test';

test.use({ demoHistory: true });

test('the demo fills the console: charts, a breach, a silent device and alerts', async ({ page, pulse, admin }) => {
  await signIn(page, pulse.admin.email, pulse.admin.password);
  // meter-2 turns OFFLINE at the first status sweep, and only then are 4 left ONLINE: wait for the sweep first.
  await expect(page.getByTestId('kpi-OFFLINE')).toHaveText('1', { timeout: 15_000 });
  await expect(page.getByTestId('kpi-ONLINE')).toHaveText('4');
  await expect(page.getByTestId('kpi-open-alerts')).toHaveText('2');
  await expect(page.getByRole('table', { name: 'Open alerts' })).toContainText('temperature 86.4 > 80');
  await expectAccessible(page, 'the demo overview');
  await screenshot(page, 'demo-overview');

  const boiler = await deviceByName(admin, 'boiler-2');
  await page.goto(`/devices/${boiler.id}?tab=telemetry`);
  const detail = page.getByRole('article', { name: 'boiler-2' });
  await detail.getByLabel('Range').selectOption('7d');
  // A week of hourly rollups: about 169 buckets.
  const chart = detail.getByRole('img', { name: /^temperature: \d+ points$/ });
  await expect(chart).toBeVisible();
  const points = Number(/(\d+) points/.exec((await chart.getAttribute('aria-label')) ?? '')![1]);
  expect(points).toBeGreaterThan(160);
  await screenshot(page, 'demo-device');

  await page.goto('/alerts?status=ANY');
  const inbox = page.getByRole('table', { name: 'Alerts' });
  await expect(inbox.getByRole('row').filter({ hasText: 'meter-2' })).toContainText('ACKNOWLEDGED');
  await expect(page.getByRole('table', { name: 'Alerts' }).getByRole('row').filter({ hasText: 'boiler-2' })).toContainText('OPEN');
});
