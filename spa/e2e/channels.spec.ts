// Channels and routing: a webhook channel from its sender's schema, its secret write-only (a bad one is
// refused at the field, a stored one shows as *** and is kept unless retyped), and a route to it.
import { expectAccessible } from './support/axe';
import { expect, screenshot, signIn, test } from './support/test';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

test('a webhook channel keeps its secret write-only and a route sends alerts to it', async ({ page, pulse, watch }) => {
  watch.allowStatus(422);
  await signIn(page, pulse.admin.email, pulse.admin.password);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Channels' }).click();
  await expect(page.getByRole('table', { name: 'Channels' })).toContainText('Server log');
  await page.getByRole('button', { name: 'New channel' }).click();
  const form = page.getByRole('form', { name: 'New channel' });
  await form.getByLabel('Name').fill('ops hook');
  await form.getByLabel('Type').selectOption('webhook');
  await form.getByLabel('url', { exact: true }).fill('http://127.0.0.1:9/hook');
  const secret = form.getByLabel('secret', { exact: true });
  await expect(secret).toHaveAttribute('type', 'password');
  await secret.fill('not-a-secret');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(form.getByRole('alert')).toContainText('secret');
  await expect(secret).toHaveAttribute('aria-invalid', 'true');
  await expect(form.getByLabel('url', { exact: true })).toHaveValue('http://127.0.0.1:9/hook');
  await secret.fill(SECRET);
  await expectAccessible(page, 'channel form');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(form).toBeHidden();
  const row = page.getByRole('table', { name: 'Channels' }).getByRole('row').filter({ hasText: 'ops hook' });
  await expect(row).toContainText('"secret":"***"');
  await expect(row).not.toContainText(SECRET);

  // Editing the URL alone keeps the stored secret.
  await row.getByRole('button', { name: 'Edit ops hook' }).click();
  const edit = page.getByRole('form', { name: 'Edit ops hook' });
  await expect(edit.getByLabel('secret', { exact: true })).toHaveValue('');
  await expect(edit.getByLabel('secret', { exact: true })).toHaveAttribute('placeholder', 'stored; type to replace');
  await edit.getByLabel('url', { exact: true }).fill('http://127.0.0.1:9/hook2');
  await edit.getByRole('button', { name: 'Save' }).click();
  await expect(row).toContainText('hook2');
  await expect(row).toContainText('"secret":"***"');

  await page.getByRole('button', { name: 'New route' }).click();
  const route = page.getByRole('form', { name: 'New route' });
  await route.getByLabel('Name').fill('criticals to ops');
  await route.getByLabel('Channel').selectOption({ label: 'ops hook' });
  await route.getByRole('checkbox', { name: 'CRITICAL' }).check();
  await route.getByLabel('Throttle (s)').fill('300');
  await route.getByRole('button', { name: 'Create route' }).click();
  const routed = page.getByRole('table', { name: 'Routing rules' }).getByRole('row').filter({ hasText: 'criticals to ops' });
  await expect(routed).toContainText('ops hook');
  await expect(routed).toContainText('CRITICAL');
  await expect(routed).toContainText('300 s');
  await expectAccessible(page, 'channels');
  await screenshot(page, 'channels');
});
