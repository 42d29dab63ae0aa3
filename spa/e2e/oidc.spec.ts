// Sign-in with OpenID Connect against the provider stand-in (tests/standins/oidc_provider.py): the button the
// sign-in page shows when pulsed names an issuer, the provider's own login form, the authorization code with
// PKCE traded for tokens, the access token sent as a bearer token (also by the live stream) and held in
// memory only, its expiry, and an answer that does not belong to the sign-in started here.
import type { Page } from '@playwright/test';
import { expectAccessible } from './support/axe';
import { startIdp, type Idp } from './support/oidc';
import { raiseAlert } from './support/scene';
import { expect, screenshot, test as base } from './support/test';

const alice = { email: 'alice@demo.test', password: 'idp-password-alice', role: 'tenant-admin', tenant: 'demo' };
// Tokens for this one live 8 s.
const brief = { ...alice, email: 'brief@demo.test', password: 'idp-password-brief', expiresInS: 8 };

const test = base.extend<object, { idp: Idp }>({
  idp: [
    async ({ pulsePort }, use) => {
      const consoleOrigin = `http://127.0.0.1:${pulsePort}`;
      const idp = await startIdp({ consoleOrigin, users: [alice, brief], name: 'Test IdP' });
      await use(idp);
      await idp.stop();
    },
    { scope: 'worker' },
  ],
  // pulsed trusts the stand-in's tokens and offers it on the sign-in page.
  pulseConfig: [async ({ idp }, use) => use(idp.pulseConfig('Test IdP')), { scope: 'worker' }],
});

// On the provider's login form (after "Sign in with Test IdP"): signs in there, and returns the access
// token the console received.
async function signInAtIdp(page: Page, idp: Idp, user: { email: string; password: string }): Promise<string> {
  await expect(page).toHaveURL((u) => u.href.startsWith(`${idp.issuer}/`));
  await page.getByLabel('E-mail').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  const token = page.waitForResponse((r) => r.url() === `${idp.issuer}/token`);
  await page.getByRole('button', { name: 'Continue' }).click();
  const response = await token;
  expect(response.status()).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

const oidcButton = (page: Page) => page.getByRole('button', { name: 'Sign in with Test IdP' });

test('signing in with the issuer returns to the page asked for, live, the token in memory only', async ({
  page,
  pulse,
  admin,
  idp,
}) => {
  await page.goto('/alerts');
  await expect(page).toHaveURL(/\/sign-in\?next=%2Falerts$/);
  await expect(oidcButton(page)).toBeVisible();
  await expectAccessible(page, 'sign-in with an OIDC issuer');
  await screenshot(page, 'sign-in-oidc');

  await oidcButton(page).click();
  await expect(page.getByRole('heading', { name: 'Sign in to Test IdP' })).toBeVisible();
  const authorize = new URL(page.url());
  expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
  expect(authorize.searchParams.get('redirect_uri')).toBe(`${pulse.baseURL}/sign-in/callback`);
  // The provider refuses a wrong password on its own page.
  await page.getByLabel('E-mail').fill(alice.email);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page.getByRole('alert')).toHaveText('The e-mail or the password is wrong.');
  await expect(page.getByLabel('E-mail')).toHaveValue(alice.email);

  const stream = page.waitForRequest((r) => new URL(r.url()).pathname === '/api/v1/stream');
  const token = await signInAtIdp(page, idp, alice);
  await expect(page).toHaveURL(`${pulse.baseURL}/alerts`);
  await expect(page.getByTestId('who')).toContainText(`${alice.email} (tenant-admin)`);
  // The API and the live stream are asked with the bearer token (fetch, not EventSource).
  expect((await stream).headers()['authorization']).toBe(`Bearer ${token}`);

  // Live: a new alert is in the open inbox within moments (the inbox polls only every 30 s meanwhile).
  await expect(page.getByTestId('live')).toHaveText('live');
  const inbox = page.getByRole('table', { name: 'Alerts' });
  await raiseAlert(admin, pulse, 'meter-2', 'voltage_dip', 'MEDIUM');
  await expect(inbox.getByRole('row').filter({ hasText: 'voltage_dip 95 > 80' })).toBeVisible({ timeout: 3_000 });

  // Nothing of the sign-in is left in storage or cookies: the transient PKCE values went with the callback.
  const stored = await page.evaluate(() => ({
    local: Object.keys(localStorage).map((k) => `${k}=${localStorage.getItem(k)}`),
    session: Object.keys(sessionStorage).map((k) => `${k}=${sessionStorage.getItem(k)}`),
    cookie: document.cookie,
  }));
  expect(stored.session).toEqual([]);
  expect(stored.local.join('\n')).not.toContain(token);
  expect(stored.local.join('\n')).not.toMatch(/eyJ[\w-]+\.eyJ/);
  expect(stored.cookie).not.toContain(token);
  expect((await page.context().cookies()).map((c) => c.value).join('\n')).not.toContain(token);

  // A reload forgets the token: back to sign-in, and to the same page after it.
  await page.reload();
  await expect(page).toHaveURL(/\/sign-in\?next=%2Falerts$/);
  await oidcButton(page).click();
  await signInAtIdp(page, idp, alice);
  await expect(page).toHaveURL(`${pulse.baseURL}/alerts`);

  // Signing out forgets the token (there is no server session to end).
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
  await page.goto('/alerts');
  await expect(page).toHaveURL(/\/sign-in\?next=%2Falerts$/);
});

test('an access token that expires returns to sign-in, keeping the page', async ({ page, pulse, idp, watch }) => {
  watch.allowStatus(401); // a request may reach pulsed just after the token's exp
  await page.goto('/devices?status=ONLINE');
  await oidcButton(page).click();
  await signInAtIdp(page, idp, brief);
  await expect(page).toHaveURL(`${pulse.baseURL}/devices?status=ONLINE`);
  await expect(page.getByTestId('who')).toContainText(brief.email);
  // The token lives 8 s.
  await expect(page).toHaveURL(/\/sign-in\?next=%2Fdevices%3Fstatus%3DONLINE$/, { timeout: 15_000 });
});

test('an answer that does not belong to the sign-in started here is refused', async ({ page }) => {
  await page.goto('/sign-in');
  await oidcButton(page).click();
  await expect(page.getByRole('heading', { name: 'Sign in to Test IdP' })).toBeVisible();
  // Someone else's answer arrives (another state): no code is traded.
  let traded = false;
  page.on('request', (r) => (traded ||= r.url().endsWith('/token')));
  await page.goto('/sign-in/callback?code=forged-code&state=forged-state');
  await expect(page.getByRole('heading', { name: 'Signing in did not finish' })).toBeVisible();
  await expect(page.getByRole('alert')).toContainText('state differs');
  expect(traded).toBe(false);
  // And a second try of the same answer finds no sign-in started.
  await page.reload();
  await expect(page.getByRole('alert')).toContainText('no sign-in was started in this tab');
  await page.getByRole('link', { name: 'Back to sign-in' }).click();
  await expect(oidcButton(page)).toBeVisible();
});
