// The tenant's default thresholds: a tenant-admin changes them; the server's 422 (stale not below offline,
// or a device of its own thresholds that would clash) shows beside the field it names, the typed value
// kept; a customer reads them and is offered no save.
import { expectAccessible } from './support/axe';
import { expect, screenshot, signIn, test } from './support/test';

test('a tenant-admin changes the default thresholds; the 422 shows beside the field', async ({ page, pulse, admin, watch }) => {
  watch.allowStatus(422);
  await signIn(page, pulse.admin.email, pulse.admin.password);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
  const form = page.getByRole('form', { name: 'Device thresholds' });
  const stale = form.getByLabel('Stale after (seconds)');
  const offline = form.getByLabel('Offline after (seconds)');
  await expect(stale).toHaveValue('300');
  await expect(offline).toHaveValue('900');
  await expect(form.getByTestId('settings-stale-hint')).toHaveText('= 5 min');

  // Stale at or above offline: the server's words beside stale, the typed value kept.
  await stale.fill('1200');
  await expect(form.getByTestId('settings-stale-hint')).toHaveText('= 20 min');
  await form.getByRole('button', { name: 'Save' }).click();
  const staleProblem = form.locator('#settings-stale-problem');
  await expect(staleProblem).toContainText('default_stale_after_s must be less than default_offline_after_s (1200 and 900)');
  await expect(stale).toHaveAttribute('aria-invalid', 'true');
  await expect(stale).toHaveValue('1200');
  await expect(offline).toHaveAttribute('aria-invalid', 'false');
  await expectAccessible(page, 'settings with a problem');
  await screenshot(page, 'settings-problem');

  // Both together are fine.
  await offline.fill('3600');
  await expect(form.getByTestId('settings-offline-hint')).toHaveText('= 1 h');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(form.getByRole('status')).toHaveText('Saved.');
  await expect(staleProblem).toBeHidden();
  expect(await admin.get('/api/v1/settings')).toEqual({ default_stale_after_s: 1200, default_offline_after_s: 3600 });
  await page.reload();
  await expect(stale).toHaveValue('1200');
  await expect(offline).toHaveValue('3600');

  // A device with an offline threshold of its own that the new stale default would pass: the message names it.
  const devices = await admin.get<{ items: { id: number; name: string }[] }>('/api/v1/devices?name=meter-1');
  const meter = devices.items.find((d) => d.name === 'meter-1')!;
  await admin.patch(`/api/v1/devices/${meter.id}`, { offline_after_s: 2400 });
  await stale.fill('3000');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(staleProblem).toContainText('meter-1');
  await expect(stale).toHaveValue('3000');
  await form.getByRole('button', { name: 'Undo changes' }).click();
  await expect(stale).toHaveValue('1200');
  await expect(staleProblem).toBeHidden();
  await expectAccessible(page, 'settings');
  await screenshot(page, 'settings');
});

test('a customer reads the thresholds and is offered no save', async ({ page, admin }) => {
  await admin.post('/api/v1/users', { email: 'viewer@demo.test', role: 'customer', password: 'viewer-password-1' });
  await signIn(page, 'viewer@demo.test', 'viewer-password-1');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
  const form = page.getByRole('form', { name: 'Device thresholds' });
  const stale = form.getByLabel('Stale after (seconds)');
  await expect(stale).toHaveValue(/^\d+$/);
  await expect(stale).not.toBeEditable();
  await expect(form.getByLabel('Offline after (seconds)')).not.toBeEditable();
  await expect(form.getByRole('button')).toHaveCount(0);
  await expect(form).toContainText('Only a tenant-admin can change these');
  await expectAccessible(page, 'settings as a customer');
});
