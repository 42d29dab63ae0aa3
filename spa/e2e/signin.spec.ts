// Sign in and out: the API's message for a wrong password, throttling's 429 with when to retry, a lost
// session returning to sign-in and then to the same page.
import { expectAccessible } from './support/axe';
import { expect, screenshot, signIn, test } from './support/test';

test('a visitor is sent to sign-in and, signed in, lands where they were going', async ({ page, pulse }) => {
  await page.goto('/devices?status=OFFLINE');
  await expect(page).toHaveURL(/\/sign-in\?next=%2Fdevices%3Fstatus%3DOFFLINE$/);
  await expectAccessible(page, 'sign-in');
  await screenshot(page, 'sign-in');
  await page.getByLabel('E-mail').fill(pulse.admin.email);
  await page.getByLabel('Password').fill(pulse.admin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/devices\?status=OFFLINE$/);
  await expect(page.getByRole('heading', { name: 'Devices' })).toBeVisible();
  await expect(page.getByLabel('Status')).toHaveValue('OFFLINE');
});

test("a wrong password shows the API's message and keeps what was typed", async ({ page, pulse, watch }) => {
  watch.allowStatus(401);
  await page.goto('/sign-in');
  await page.getByLabel('E-mail').fill(pulse.admin.email);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('the e-mail or the password is wrong');
  await expect(page.getByLabel('E-mail')).toHaveValue(pulse.admin.email);
  await page.getByLabel('Password').fill(pulse.admin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('who')).toContainText(`${pulse.admin.email} (tenant-admin)`);
});

test('throttled sign-ins say when to retry', async ({ page, watch }) => {
  watch.allowStatus(401, 429);
  await page.goto('/sign-in');
  await page.getByLabel('E-mail').fill('nobody@demo.test');
  await page.getByLabel('Password').fill('guessing-1');
  // login.max_failures_per_account is 5: the sixth attempt is refused before it is checked.
  for (let i = 0; i < 6; i++) await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText(/too many failed sign-ins; retry later \(retry in \d+ s\)/);
});

test('signing out ends the session; a lost session returns to sign-in and back', async ({ page, pulse, watch }) => {
  watch.allowStatus(401);
  await signIn(page, pulse.admin.email, pulse.admin.password);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
  await page.goto('/');
  await expect(page).toHaveURL(/\/sign-in$/);

  await signIn(page, pulse.admin.email, pulse.admin.password);
  await page.goto('/alerts?status=CLOSED');
  await expect(page.getByRole('heading', { name: 'Alerts' })).toBeVisible();
  // The session ends elsewhere (expired, revoked): the next request finds it gone.
  await page.context().clearCookies();
  await page.getByLabel('Status').selectOption('ACKNOWLEDGED');
  await expect(page).toHaveURL(/\/sign-in\?next=%2Falerts/);
  await page.getByLabel('E-mail').fill(pulse.admin.email);
  await page.getByLabel('Password').fill(pulse.admin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/alerts\?status=ACKNOWLEDGED$/);
});
