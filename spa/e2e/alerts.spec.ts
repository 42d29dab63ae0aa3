// The alert inbox: severity tabs and filters, an alert's history and comments, bulk actions, the keys,
// and phone width.
import { expectAccessible } from './support/axe';
import { raiseAlert } from './support/scene';
import { expect, screenshot, signIn, test } from './support/test';

test.describe.configure({ mode: 'serial' });

let ids: { boiler1: number; boiler2: number; chiller: number };

test.beforeAll(async ({ admin, pulse }) => {
  ids = {
    boiler1: await raiseAlert(admin, pulse, 'boiler-1', 'flow_temp', 'CRITICAL'),
    boiler2: await raiseAlert(admin, pulse, 'boiler-2', 'return_temp', 'HIGH'),
    chiller: await raiseAlert(admin, pulse, 'chiller-1', 'coolant_temp', 'HIGH'),
  };
});

test('tabs and filters narrow the inbox; a row opens to its history and takes a comment', async ({ page, pulse }) => {
  await signIn(page, pulse.admin.email, pulse.admin.password);
  await page.goto('/alerts');
  const inbox = page.getByRole('table', { name: 'Alerts' });
  await expect(inbox.getByRole('row')).toHaveCount(4); // the header and three alerts
  await page.getByRole('tab', { name: 'Critical' }).click();
  await expect(inbox.getByRole('row')).toHaveCount(2);
  await expect(inbox).toContainText('boiler-1');
  await page.getByRole('tab', { name: 'All' }).click();
  await expect(inbox.getByRole('row')).toHaveCount(4);
  await expectAccessible(page, 'alert inbox');
  await screenshot(page, 'alerts');

  await page.getByTestId(`alert-${ids.chiller}`).getByRole('button', { name: 'coolant_temp 95 > 80' }).click();
  const detail = page.getByTestId(`alert-detail-${ids.chiller}`);
  await expect(detail.getByRole('listitem').filter({ hasText: 'opened' })).toBeVisible();
  await detail.getByLabel('Comment').fill('technician on the way');
  await detail.getByRole('button', { name: 'Comment' }).click();
  await expect(detail.getByRole('listitem').filter({ hasText: 'commented' })).toContainText('technician on the way');
  await expect(detail.getByLabel('Comment')).toHaveValue('');
  // The demo tenant routes every alert to its server-log channel: one delivery, each attempt with its answer.
  const delivery = detail.locator('details').filter({ hasText: 'Server log (log): OPENED' });
  await expect(delivery).toContainText('DONE', { timeout: 15_000 });
  await delivery.locator('summary').click();
  await expect(delivery.getByRole('table', { name: 'Attempts to Server log' })).toContainText('DELIVERED');
  await expectAccessible(page, 'alert detail');
  await screenshot(page, 'alert-detail');
});

test('bulk acknowledge, then close, moves alerts between the status filters', async ({ page, pulse }) => {
  await signIn(page, pulse.admin.email, pulse.admin.password);
  await page.goto('/alerts');
  await page.getByLabel(/Select alert .*boiler-2/).check();
  await page.getByLabel(/Select alert .*chiller-1/).check();
  await page.getByRole('group', { name: 'Actions on the selected alerts' }).getByRole('button', { name: 'Acknowledge' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'acknowledge: 2 changed' })).toBeVisible();
  const inbox = page.getByRole('table', { name: 'Alerts' });
  await expect(inbox.getByRole('row')).toHaveCount(2);
  await page.getByLabel('Status').selectOption('ACKNOWLEDGED');
  await expect(inbox.getByRole('row')).toHaveCount(3);
  await page.getByLabel('Select all listed alerts').check();
  await page.getByRole('group', { name: 'Actions on the selected alerts' }).getByRole('button', { name: 'Close' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'close: 2 changed' })).toBeVisible();
  await expect(page.getByText('No alert matches.')).toBeVisible();
  await page.getByLabel('Status').selectOption('CLOSED');
  await expect(inbox.getByRole('row')).toHaveCount(3);
});

test('the keys: ? shows them, j/k move, x selects, a acknowledges', async ({ page, pulse, admin }) => {
  await raiseAlert(admin, pulse, 'meter-1', 'current', 'LOW');
  await signIn(page, pulse.admin.email, pulse.admin.password);
  await page.goto('/alerts');
  const inbox = page.getByRole('table', { name: 'Alerts' });
  await expect(inbox.getByRole('row')).toHaveCount(3); // boiler-1 and meter-1 are open
  await page.keyboard.press('?');
  await expect(page.getByRole('dialog', { name: 'Keyboard' })).toBeVisible();
  await page.keyboard.press('?');
  await expect(page.getByRole('dialog', { name: 'Keyboard' })).toBeHidden();
  await page.keyboard.press('j');
  await page.keyboard.press('k');
  await page.keyboard.press('j');
  await page.keyboard.press('x');
  const second = inbox.getByRole('row').nth(2);
  await expect(second).toHaveAttribute('aria-selected', 'true');
  const summary = (await second.getByRole('button').textContent()) ?? '';
  await page.keyboard.press('a');
  await expect(page.getByRole('status').filter({ hasText: 'acknowledge: 1 changed' })).toBeVisible();
  await expect(inbox.getByRole('row')).toHaveCount(2);
  await expect(inbox).not.toContainText(summary);
});

test('the inbox is usable at phone width', async ({ page, pulse }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, pulse.admin.email, pulse.admin.password);
  await page.getByRole('button', { name: 'Menu' }).click();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Alerts' }).click();
  const inbox = page.getByRole('table', { name: 'Alerts' });
  await expect(inbox.getByRole('row')).toHaveCount(2);
  const box = await inbox.boundingBox();
  expect(box!.width).toBeLessThanOrEqual(390);
  await page.getByLabel(/Select alert/).first().check();
  await expect(page.getByRole('group', { name: 'Actions on the selected alerts' }).getByRole('button', { name: 'Acknowledge' })).toBeInViewport();
  await expectAccessible(page, 'alert inbox at phone width');
  await screenshot(page, 'alerts-phone');
});

test('a new alert appears in an open inbox as it happens (the live stream, not a reload)', async ({ page, pulse, admin }) => {
  await signIn(page, pulse.admin.email, pulse.admin.password);
  await page.goto('/alerts');
  await expect(page.getByTestId('live')).toHaveText('live');
  const inbox = page.getByRole('table', { name: 'Alerts' });
  // The header row is there before the first page arrives: count once the demo's open alerts are shown.
  await expect(inbox.getByRole('row').nth(1)).toBeVisible();
  const before = await inbox.getByRole('row').count();
  await raiseAlert(admin, pulse, 'meter-2', 'voltage_dip', 'MEDIUM');
  // While the stream is up the inbox polls only every 30 s: seeing the row within 3 s is the stream's doing.
  await expect(inbox.getByRole('row').filter({ hasText: 'voltage_dip 95 > 80' })).toBeVisible({ timeout: 3_000 });
  await expect(inbox.getByRole('row')).toHaveCount(before + 1);
});

test('the rule and assignee filters, and assigning to someone else in bulk', async ({ page, pulse, admin }) => {
  const colleague = 'night-shift@demo.test';
  await admin.post('/api/v1/users', { email: colleague, role: 'customer', password: 'a long enough password 1' });
  const first = await raiseAlert(admin, pulse, 'boiler-1', 'gas_flow', 'LOW');
  const second = await raiseAlert(admin, pulse, 'chiller-1', 'gas_flow', 'LOW');
  await signIn(page, pulse.admin.email, pulse.admin.password);
  await page.goto('/alerts');
  const inbox = page.getByRole('table', { name: 'Alerts' });
  await page.getByLabel('Rule').selectOption({ label: 'gas_flow too high on boiler-1' });
  await expect(inbox.getByRole('row')).toHaveCount(2); // the header and boiler-1's
  await expect(page.getByTestId(`alert-${first}`)).toBeVisible();
  await page.getByLabel('Rule').selectOption('');
  await page.getByLabel('Select alert gas_flow 95 > 80 on boiler-1').check();
  await page.getByLabel('Select alert gas_flow 95 > 80 on chiller-1').check();
  const actions = page.getByRole('group', { name: 'Actions on the selected alerts' });
  await actions.getByLabel('Assign to').selectOption({ label: colleague });
  await actions.getByRole('button', { name: 'Assign', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: `assigned 2 to ${colleague}` })).toBeVisible();
  await page.getByLabel('Assignee').selectOption({ label: colleague });
  await expect(inbox.getByRole('row')).toHaveCount(3);
  await expect(page.getByTestId(`alert-${second}`)).toBeVisible();
  await page.getByLabel('Assignee').selectOption('none');
  await expect(page.getByTestId(`alert-${first}`)).toHaveCount(0);
  await expect(page).toHaveURL(/assignee=none/);
  await expectAccessible(page, 'alert inbox filtered');
});

test('a closed alert is re-opened from its detail: open again, and its history says so', async ({ page, pulse }) => {
  await signIn(page, pulse.admin.email, pulse.admin.password);
  await page.goto('/alerts?status=CLOSED');
  const row = page.getByTestId(`alert-${ids.chiller}`);
  await row.getByRole('button', { name: 'coolant_temp 95 > 80' }).click();
  const detail = page.getByTestId(`alert-detail-${ids.chiller}`);
  await detail.getByRole('button', { name: 'Re-open' }).click();
  await expect(detail.getByRole('listitem').filter({ hasText: 're-opened (was closed)' })).toContainText(pulse.admin.email);
  await expect(detail.getByRole('button', { name: 'Re-open' })).toHaveCount(0);
  await expectAccessible(page, 'alert re-opened');
  await page.getByLabel('Status').selectOption('OPEN');
  await expect(page.getByTestId(`alert-${ids.chiller}`)).toBeVisible();
});
