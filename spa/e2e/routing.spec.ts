// A channel's test notification and deletion, and routes edited and deleted: the demo's log channel takes a
// test (delivered), a webhook to a closed loopback port does not (retry); a route is edited in a prefilled
// form and the list shows the change; a route to a channel deleted meanwhile gets the server's 422 beside
// the channel field, the form kept; deleting a channel takes its routes with it.
import { expectAccessible } from './support/axe';
import { raiseAlert } from './support/scene';
import { expect, screenshot, signIn, test } from './support/test';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

test('test notifications, editing and deleting routes, deleting a channel', async ({ page, pulse, admin, watch }) => {
  watch.allowStatus(422);
  // A channel that is deleted behind the page's back, for the 422 further down.
  const doomed = await admin.post<{ id: string }>('/api/v1/channels', { name: 'doomed log', type: 'log', config: {} });
  await signIn(page, pulse.admin.email, pulse.admin.password);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Channels' }).click();
  const channels = page.getByRole('table', { name: 'Channels' });
  const routes = page.getByRole('table', { name: 'Routing rules' });

  // The demo's log channel takes the test.
  await channels.getByRole('button', { name: 'Send test notification to Server log' }).click();
  const logTest = page.getByRole('status', { name: 'Test notification to Server log' });
  await expect(logTest.getByTestId('test-outcome')).toHaveText('delivered');
  await expect(logTest).toContainText(/\d+ ms/);

  // A webhook to a port nobody listens on: a real delivery would be retried.
  await page.getByRole('button', { name: 'New channel' }).click();
  const form = page.getByRole('form', { name: 'New channel' });
  await form.getByLabel('Name').fill('pager hook');
  await form.getByLabel('Type').selectOption('webhook');
  await form.getByLabel('url', { exact: true }).fill('http://127.0.0.1:9/x');
  await form.getByLabel('secret', { exact: true }).fill(SECRET);
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(form).toBeHidden();
  await channels.getByRole('button', { name: 'Send test notification to pager hook' }).click();
  const hookTest = page.getByRole('status', { name: 'Test notification to pager hook' });
  await expect(hookTest.getByTestId('test-outcome')).toHaveText('retry');
  await expect(hookTest).toContainText('HTTP status');
  await expect(hookTest).toContainText('no answer');

  // A route, then edited: the form comes prefilled and the list shows the change.
  await page.getByRole('button', { name: 'New route' }).click();
  const create = page.getByRole('form', { name: 'New route' });
  await create.getByLabel('Name').fill('pager criticals');
  await create.getByLabel('Channel').selectOption({ label: 'pager hook' });
  await create.getByRole('checkbox', { name: 'CRITICAL' }).check();
  await create.getByRole('button', { name: 'Create route' }).click();
  await expect(create).toBeHidden();
  await expect(routes.getByRole('row').filter({ hasText: 'pager criticals' })).toContainText('CRITICAL');

  await routes.getByRole('button', { name: 'Edit route pager criticals' }).click();
  const edit = page.getByRole('form', { name: 'Edit route pager criticals' });
  await expect(edit.getByLabel('Name')).toHaveValue('pager criticals');
  await expect(edit.getByLabel('Channel')).toHaveValue(/.+/);
  await expect(edit.getByLabel('Channel').locator('option:checked')).toHaveText('pager hook');
  await expect(edit.getByRole('checkbox', { name: 'CRITICAL' })).toBeChecked();
  await expect(edit.getByRole('checkbox', { name: 'Enabled' })).toBeChecked();
  await edit.getByLabel('Name').fill('pager highs');
  await edit.getByRole('checkbox', { name: 'CRITICAL' }).uncheck();
  await edit.getByRole('checkbox', { name: 'HIGH' }).check();
  await edit.getByRole('checkbox', { name: 'threshold' }).check();
  await edit.getByLabel('Tag').fill('boiler');
  await edit.getByLabel('Throttle (s)').fill('600');
  await edit.getByRole('checkbox', { name: 'Enabled' }).uncheck();
  await expectAccessible(page, 'route form');
  await edit.getByRole('button', { name: 'Save route' }).click();
  await expect(edit).toBeHidden();
  const edited = routes.getByRole('row').filter({ hasText: 'pager highs' });
  await expect(edited).toContainText('pager hook');
  await expect(edited).toContainText('HIGH');
  await expect(edited).not.toContainText('CRITICAL');
  await expect(edited).toContainText('threshold');
  await expect(edited).toContainText('boiler');
  await expect(edited).toContainText('600 s');
  await expect(edited).toContainText('disabled');
  await expect(routes.getByRole('row').filter({ hasText: 'pager criticals' })).toHaveCount(0);
  await expectAccessible(page, 'channels with test results');
  await screenshot(page, 'channel-test');

  // A route to a channel that is gone by the time it is saved: the 422 beside the channel, nothing lost.
  await page.getByRole('button', { name: 'New route' }).click();
  const late = page.getByRole('form', { name: 'New route' });
  await late.getByLabel('Name').fill('too late');
  await late.getByLabel('Channel').selectOption({ label: 'doomed log' });
  await late.getByLabel('Tag').fill('night');
  await admin.call('DELETE', `/api/v1/channels/${doomed.id}`);
  await late.getByRole('button', { name: 'Create route' }).click();
  const problem = late.locator('#route-channel-problem');
  await expect(problem).toContainText('no such channel');
  await expect(late.getByLabel('Channel')).toHaveAttribute('aria-invalid', 'true');
  await expect(late.getByLabel('Name')).toHaveValue('too late');
  await expect(late.getByLabel('Tag')).toHaveValue('night');
  await late.getByRole('button', { name: 'Cancel' }).click();
  await expect(channels).not.toContainText('doomed log');

  // Deleting a route asks first.
  await routes.getByRole('button', { name: 'Delete route Everything' }).click();
  const confirmRoute = page.getByRole('dialog', { name: 'Delete the route Everything?' });
  await confirmRoute.getByRole('button', { name: 'Delete' }).click();
  await expect(confirmRoute).toBeHidden();
  await expect(routes.getByRole('row').filter({ hasText: 'Everything' })).toHaveCount(0);

  // Deleting a channel says its routes go too, and they do.
  await channels.getByRole('button', { name: 'Delete pager hook' }).click();
  const confirmChannel = page.getByRole('dialog', { name: 'Delete the channel pager hook?' });
  await expect(confirmChannel).toContainText('Its routing rules go with it (one route)');
  await expectAccessible(page, 'delete channel dialog');
  await confirmChannel.getByRole('button', { name: 'Delete' }).click();
  await expect(confirmChannel).toBeHidden();
  await expect(channels.getByRole('row').filter({ hasText: 'pager hook' })).toHaveCount(0);
  await expect(routes.getByRole('row').filter({ hasText: 'pager highs' })).toHaveCount(0);
  await expect(channels).toContainText('Server log');
});

// A route that groups by site: made in the form, listed with its timers; two alerts of site-less devices form
// one open group, shown with its alerts (linked), waiting out its group wait before the one notice.
test('a grouping route and the open group it forms', async ({ page, pulse, admin }) => {
  await signIn(page, pulse.admin.email, pulse.admin.password);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Channels' }).click();
  const routes = page.getByRole('table', { name: 'Routing rules' });
  await page.getByRole('button', { name: 'New route' }).click();
  const create = page.getByRole('form', { name: 'New route' });
  await create.getByLabel('Name').fill('by site');
  await create.getByLabel('Channel').selectOption({ label: 'Server log' });
  await expect(create.getByLabel('Group wait (s)')).toHaveCount(0);
  await create.getByRole('checkbox', { name: 'site' }).check();
  await create.getByLabel('Group wait (s)').fill('3600');
  await create.getByLabel('Group interval (s)').fill('600');
  await create.getByLabel('Repeat interval (s, 0: never)').fill('0');
  await expectAccessible(page, 'grouping route form');
  await create.getByRole('button', { name: 'Create route' }).click();
  await expect(create).toBeHidden();
  await expect(routes.getByRole('row').filter({ hasText: 'by site' })).toContainText('by site: 3600 s wait, 600 s interval, no repeat');

  // Edited, the form comes back with the grouping as saved.
  await routes.getByRole('button', { name: 'Edit route by site' }).click();
  const edit = page.getByRole('form', { name: 'Edit route by site' });
  await expect(edit.getByRole('checkbox', { name: 'site' })).toBeChecked();
  await expect(edit.getByLabel('Group wait (s)')).toHaveValue('3600');
  await edit.getByRole('button', { name: 'Cancel' }).click();

  await raiseAlert(admin, pulse, 'boiler-1', 'flow_temp', 'CRITICAL');
  await raiseAlert(admin, pulse, 'chiller-1', 'coolant_temp', 'HIGH');
  const groups = page.getByRole('table', { name: 'Notification groups' });
  await expect
    .poll(async () => {
      await page.reload();
      return (await groups.getByRole('row').filter({ hasText: 'by site' }).textContent()) ?? '';
    }, { timeout: 20_000 })
    .toContain('2 (2 open)');
  const row = groups.getByRole('row').filter({ hasText: 'by site' });
  await expect(row).toContainText('no site');
  await expect(row.getByRole('link', { name: /CRITICAL boiler-1: flow_temp/ })).toBeVisible();
  await expect(row.getByRole('link', { name: /HIGH chiller-1: coolant_temp/ })).toBeVisible();
  await expect(row.locator('time')).toHaveText(/^in /); // its first notice waits out the group wait
  await expectAccessible(page, 'notification groups');
  await screenshot(page, 'notification-groups');
});
