// Devices: the server filters the list; the detail pane's tabs show status history, telemetry charts, the
// device's alerts, and its credentials (a rotated token shown once), decommission behind a confirmation.
import { ingest } from './support/api';
import { expectAccessible } from './support/axe';
import { deviceByName, raiseAlert } from './support/scene';
import { expect, screenshot, signIn, test } from './support/test';

test('the list filters on the server and the detail pane shows a device', async ({ page, pulse, admin }) => {
  for (const [name, t] of [['boiler-1', 61], ['boiler-2', 58]] as const) {
    const base = Date.now() - 30 * 60_000;
    await ingest(
      pulse.baseURL,
      pulse.deviceTokens[name]!,
      Array.from({ length: 30 }, (_, i) => ({ ts: base + i * 60_000, values: { temperature: t + Math.sin(i / 3) * 4, pressure: 1.2 } })),
    );
  }
  await raiseAlert(admin, pulse, 'boiler-2', 'flow_temp');
  await signIn(page, pulse.admin.email, pulse.admin.password);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Devices' }).click();
  await expect(page.getByTestId('device-count')).toHaveText('5 shown');

  await page.getByLabel('Name starts with').fill('boiler');
  await expect(page.getByTestId('device-count')).toHaveText('2 shown');
  await expect(page).toHaveURL(/q=boiler/);
  await page.getByLabel('Status').selectOption('OFFLINE');
  await expect(page.getByTestId('device-count')).toHaveText('0 shown');
  await expect(page.getByText('No device matches.')).toBeVisible();
  await page.getByLabel('Status').selectOption('');
  await expectAccessible(page, 'devices');

  await page.getByRole('link', { name: 'boiler-2' }).click();
  const detail = page.getByRole('article', { name: 'boiler-2' });
  await expect(detail.getByText('ONLINE').first()).toBeVisible();
  await expect(detail.getByRole('table', { name: 'Status history' })).toContainText('OFFLINE');

  await detail.getByRole('tab', { name: 'Telemetry' }).click();
  await expect(detail.getByRole('img', { name: /^temperature: \d+ points$/ })).toBeVisible();
  await expect(detail.getByRole('img', { name: /^pressure: \d+ points$/ })).toBeVisible();
  await expect(page).toHaveURL(/tab=telemetry/);
  await screenshot(page, 'device-telemetry');
  // A reading sent now is on the chart within moments: the stream carries the readings of this device.
  const pressure = detail.getByRole('img', { name: /^pressure: \d+ points$/ });
  const points = Number(/(\d+) points/.exec((await pressure.getAttribute('aria-label')) ?? '')![1]);
  await ingest(pulse.baseURL, pulse.deviceTokens['boiler-2']!, { pressure: 1.4 });
  await expect(detail.getByRole('img', { name: `pressure: ${points + 1} points` })).toBeVisible({ timeout: 3_000 });
  await detail.getByLabel('Range').selectOption('7d');
  await expect(detail.getByRole('img', { name: /^temperature: \d+ points$/ })).toBeVisible();
  await expectAccessible(page, 'device telemetry');

  await detail.getByRole('tab', { name: 'Alerts' }).click();
  await expect(detail.getByRole('table', { name: "The device's alerts" })).toContainText('flow_temp 95 > 80');
});

test('credentials: a rotated token is shown once and works; decommission asks first', async ({ page, pulse, admin }) => {
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  const d = await deviceByName(admin, 'meter-2');
  await signIn(page, pulse.admin.email, pulse.admin.password);
  await page.goto(`/devices/${d.id}?tab=credentials`);
  const detail = page.getByRole('article', { name: 'meter-2' });
  await detail.getByRole('button', { name: 'Rotate token' }).click();
  const token = (await detail.getByTestId('secret-value').textContent()) ?? '';
  expect(token).toMatch(/^pt_/);
  await detail.getByRole('button', { name: 'Copy' }).click();
  await expect(detail.getByRole('button', { name: 'Copied' })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);
  await expectAccessible(page, 'device credentials');
  await screenshot(page, 'device-credentials');
  await ingest(pulse.baseURL, token, { power: 1 }); // the new token works

  // Cancelling changes nothing; confirming decommissions.
  await detail.getByRole('button', { name: 'Decommission' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
  await expect(detail.getByText('Decommissioned')).toHaveCount(0);
  await detail.getByRole('button', { name: 'Decommission' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Decommission' }).click();
  await expect(detail.getByText(/Decommissioned .*: it can no longer send readings/)).toBeVisible();
});

test('a customer is not offered what only a tenant-admin may do', async ({ page, admin }) => {
  await admin.post('/api/v1/users', { email: 'viewer@demo.test', display_name: 'Viewer', role: 'customer', password: 'viewer-password-1' });
  const d = await deviceByName(admin, 'chiller-1');
  await signIn(page, 'viewer@demo.test', 'viewer-password-1');
  await page.goto(`/devices/${d.id}?tab=credentials`);
  await expect(page.getByText("Only a tenant-admin manages a device's credentials.")).toBeVisible();
  await expect(page.getByRole('button', { name: 'Rotate token' })).toHaveCount(0);
});

test('the list sorts on the server by name and by when devices were last seen', async ({ page, pulse }) => {
  await ingest(pulse.baseURL, pulse.deviceTokens['chiller-1']!, { power: 2 }); // the most recently seen
  await signIn(page, pulse.admin.email, pulse.admin.password);
  await page.goto('/devices');
  const firstRow = page.getByRole('table', { name: 'Devices' }).getByRole('row').nth(1);
  await page.getByLabel('Order').selectOption('-name');
  await expect(firstRow).toContainText('meter-2');
  await expect(page).toHaveURL(/sort=-name/);
  await page.getByLabel('Order').selectOption('name');
  await expect(firstRow).toContainText('boiler-1');
  await page.getByLabel('Order').selectOption('-last_seen');
  await expect(firstRow).toContainText('chiller-1');
  // The overview lists the same device first among the recently seen.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Overview' }).click();
  await expect(page.getByRole('table', { name: 'Recently seen devices' }).getByRole('row').nth(1)).toContainText('chiller-1');
});

test('a device behind an offline gateway: its alert is marked suppressed, and the device names its parent', async ({ page, pulse, admin }) => {
  const gateway = await deviceByName(admin, 'meter-1');
  const sensor = await deviceByName(admin, 'boiler-1');
  await admin.patch(`/api/v1/devices/${sensor.id}`, { parent_id: gateway.id });
  // The gateway reports once, then goes quiet past a 2-second threshold: the status sweep makes it OFFLINE.
  await admin.patch(`/api/v1/devices/${gateway.id}`, { stale_after_s: 1, offline_after_s: 2 });
  // (It may be OFFLINE already, and last-seen times are written a moment after the reading: the OFFLINE
  // looked for is the one after this reading.)
  const sent = Date.now() - 1000;
  await ingest(pulse.baseURL, pulse.deviceTokens['meter-1']!, { power: 3 });
  await expect
    .poll(
      async () => {
        const d = await admin.get<{ status: string; last_seen_at: string | null }>(`/api/v1/devices/${gateway.id}`);
        return d.status === 'OFFLINE' && d.last_seen_at !== null && Date.parse(d.last_seen_at) >= sent;
      },
      { timeout: 20_000, intervals: [500] },
    )
    .toBe(true);
  const alert = await raiseAlert(admin, pulse, 'boiler-1', 'supply_temp');
  const seen = await admin.get<{ suppressed: { parent_name: string; reason: string; held: boolean } | null }>(`/api/v1/alerts/${alert}`);
  expect(seen.suppressed).toEqual(expect.objectContaining({ parent_name: 'meter-1', reason: 'parent offline', held: true }));

  await signIn(page, pulse.admin.email, pulse.admin.password);
  await page.goto('/alerts');
  const row = page.getByTestId(`alert-${alert}`);
  await expect(row.getByText('suppressed')).toBeVisible();
  await row.getByRole('button', { name: /^supply_temp 95 > 80/ }).click();
  await expect(page.getByTestId('alert-suppressed')).toContainText('Suppressed by its parent meter-1 (parent offline)');
  await expectAccessible(page, 'suppressed alert');
  await screenshot(page, 'alert-suppressed');
  await page.getByTestId('alert-suppressed').getByRole('link', { name: 'meter-1' }).click();
  await expect(page.getByRole('article', { name: 'meter-1' })).toBeVisible();

  await page.goto(`/devices/${sensor.id}`);
  const detail = page.getByRole('article', { name: 'boiler-1' });
  const dependsOn = detail.locator('dd', { hasText: 'meter-1' });
  await expect(dependsOn.getByRole('link', { name: 'meter-1' })).toBeVisible();
  await expect(dependsOn).toContainText('OFFLINE');
});

test('a tenant-admin sets, refuses and removes a device parent on the device page', async ({ page, pulse, admin, watch }) => {
  watch.allowStatus(422); // the cycle, refused
  const chiller = await deviceByName(admin, 'chiller-1');
  const meter = await deviceByName(admin, 'boiler-2');
  await signIn(page, pulse.admin.email, pulse.admin.password);
  await page.goto(`/devices/${chiller.id}`);
  const detail = page.getByRole('article', { name: 'chiller-1' });
  await detail.getByRole('button', { name: 'Set parent' }).click();
  const form = detail.getByRole('form', { name: 'Parent device' });
  await form.getByLabel('Parent device name').fill('no-such-device');
  await form.getByRole('button', { name: 'Save parent' }).click();
  await expect(form.locator('#parent-name-problem')).toHaveText('no device named no-such-device');
  await form.getByLabel('Parent device name').fill('boiler-2');
  await form.getByRole('button', { name: 'Save parent' }).click();
  await expect(form).toBeHidden();
  await expect(detail.getByRole('link', { name: 'boiler-2' })).toBeVisible();
  expect((await admin.get<{ parent_id: number | null }>(`/api/v1/devices/${chiller.id}`)).parent_id).toBe(meter.id);

  // boiler-2 behind chiller-1 would close a cycle: the server's problem shows beside the field, nothing kept.
  await page.goto(`/devices/${meter.id}`);
  const meterDetail = page.getByRole('article', { name: 'boiler-2' });
  await meterDetail.getByRole('button', { name: 'Set parent' }).click();
  const cycle = meterDetail.getByRole('form', { name: 'Parent device' });
  await cycle.getByLabel('Parent device name').fill('chiller-1');
  await cycle.getByRole('button', { name: 'Save parent' }).click();
  await expect(cycle.locator('#parent-name-problem')).toContainText('cycle');
  await expect(cycle.getByLabel('Parent device name')).toHaveAttribute('aria-invalid', 'true');
  await expectAccessible(page, 'parent refused');
  expect((await admin.get<{ parent_id: number | null }>(`/api/v1/devices/${meter.id}`)).parent_id).toBeNull();
  await cycle.getByRole('button', { name: 'Cancel' }).click();

  await page.goto(`/devices/${chiller.id}`);
  await detail.getByRole('button', { name: 'Remove parent' }).click();
  await expect(detail).toContainText('nothing (no parent device)');
  expect((await admin.get<{ parent_id: number | null }>(`/api/v1/devices/${chiller.id}`)).parent_id).toBeNull();
});
