// Paging a person, in the console: an on-call schedule is created (weekly rotation of two people, in
// Europe/Berlin), shows who is on call now, a 14-day timeline and its calendar feed; an override takes over
// and an overlapping one gets the server's 409 beside its field. An escalation policy pages the schedule,
// then a person; a level without targets gets the server's 422 inside that level; five levels are the most.
// A person's contact method is added; a rule is pointed at the policy. Maintenance windows: a weekly one for
// listed devices (a name nobody has is refused beside the field), a one-off one in progress now, a server
// refusal beside its field, an edit prefilled, a deletion. Each page passes axe and is screenshotted.
import { expectAccessible } from './support/axe';
import { expect, screenshot, signIn, test } from './support/test';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

// An instant as a datetime-local value in a zone.
function wall(ms: number, zone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(ms));
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '00';
  return `${part('year')}-${part('month')}-${part('day')}T${part('hour')}:${part('minute')}`;
}

test('on-call schedules, overrides, escalation policies, contact methods and maintenance windows', async ({ page, pulse, admin, watch }) => {
  watch.allowStatus(409, 422);
  for (const [email, name] of [
    ['alice@demo.test', 'Alice'],
    ['bob@demo.test', 'Bob'],
  ]) {
    await admin.post('/api/v1/users', { email, password: 'on-call-password-1', display_name: name });
  }
  await admin.post('/api/v1/channels', { name: 'pager hook', type: 'webhook', config: { url: 'http://127.0.0.1:9/x', secret: SECRET } });
  await signIn(page, pulse.admin.email, pulse.admin.password);
  const nav = page.getByRole('navigation', { name: 'Main' });

  // A schedule: Alice and Bob a week each, handing off at 09:00 Berlin time.
  await nav.getByRole('link', { name: 'On call' }).click();
  await page.getByRole('button', { name: 'New schedule' }).click();
  const form = page.getByRole('form', { name: 'New schedule' });
  await form.getByLabel('Name', { exact: true }).fill('Primary');
  await form.getByLabel('Time zone').selectOption('Europe/Berlin');
  const layer = form.getByRole('group', { name: 'Layer 1' });
  await layer.getByLabel('Rotation', { exact: true }).selectOption('weekly');
  await layer.getByLabel('Handoff at').fill('09:00');
  await layer.getByLabel('Add a person').selectOption({ label: 'Alice' });
  await layer.getByLabel('Add a person').selectOption({ label: 'Bob' });
  await expect(layer.getByRole('list', { name: 'Rotation of layer 1' })).toContainText(/Alice.*Bob/s);
  await form.getByRole('button', { name: 'Create schedule' }).click();
  await expect(form).toBeHidden();
  const row = page.getByRole('table', { name: 'Schedules' }).getByRole('row').filter({ hasText: 'Primary' });
  await expect(row).toContainText('Europe/Berlin');
  await expect(row.getByTestId('on-call-now')).toHaveText(/^(Alice|Bob)$/);
  const detail = page.getByRole('region', { name: 'Schedule Primary' });
  // Two people a week each over 14 days: at least two shifts, each naming its layer.
  await expect(detail.getByRole('table', { name: 'Shifts' }).getByRole('row').nth(2)).toContainText('layer 1');

  // Bob takes over for the next two hours; Alice over the same time is refused beside "From".
  const now = Date.now();
  const overrides = detail.getByRole('form', { name: 'New override' });
  await overrides.getByLabel('Who').selectOption({ label: 'Bob' });
  await overrides.getByLabel('From (Europe/Berlin)').fill(wall(now - 600_000, 'Europe/Berlin'));
  await overrides.getByLabel('To (Europe/Berlin)').fill(wall(now + 7_200_000, 'Europe/Berlin'));
  await overrides.getByLabel('Note').fill('swap with Alice');
  await overrides.getByRole('button', { name: 'Add override' }).click();
  await expect(detail.getByRole('table', { name: 'Overrides' })).toContainText('swap with Alice');
  await expect(row.getByTestId('on-call-now')).toHaveText('Bob');
  await expect(detail.getByRole('table', { name: 'Shifts' }).getByRole('row').filter({ hasText: 'override' })).toContainText('Bob');
  await overrides.getByLabel('Who').selectOption({ label: 'Alice' });
  await overrides.getByRole('button', { name: 'Add override' }).click();
  await expect(overrides.getByLabel('From (Europe/Berlin)')).toHaveAttribute('aria-invalid', 'true');
  await expect(overrides.getByRole('alert')).toContainText('overlaps');

  // The calendar feed a calendar app subscribes to.
  await detail.getByRole('group', { name: 'Calendar feed of Primary' }).getByRole('button', { name: 'Calendar feed' }).click();
  const feedUrl = await detail.getByLabel('Calendar URL').inputValue();
  expect(feedUrl).toContain('/api/v1/calendars/');
  const feed = await page.request.get(feedUrl);
  expect(feed.status()).toBe(200);
  expect(await feed.text()).toContain('BEGIN:VCALENDAR');
  await expectAccessible(page, 'on-call');
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, 'on-call');

  // An escalation policy: whoever is on call in Primary, then Alice; a level without a target is refused
  // inside that level; no more than five levels.
  await nav.getByRole('link', { name: 'Escalation' }).click();
  await page.getByRole('button', { name: 'New policy' }).click();
  const policy = page.getByRole('form', { name: 'New escalation policy' });
  await policy.getByLabel('Name', { exact: true }).fill('Night');
  const level1 = policy.getByRole('group', { name: 'Level 1' });
  await level1.getByLabel('Page').selectOption('schedule');
  await level1.getByLabel('Target').selectOption({ label: 'Primary' });
  await expect(level1).toContainText('on call in Primary');
  await policy.getByRole('button', { name: 'Add level' }).click();
  await policy.getByLabel('Repeat the levels (times)').fill('1');
  await policy.getByRole('checkbox', { name: /Tenant default/ }).check();
  await policy.getByRole('button', { name: 'Create policy' }).click();
  const level2 = policy.getByRole('group', { name: 'Level 2' });
  await expect(level2.getByRole('alert')).toContainText('targets');
  for (let i = 3; i <= 5; ++i) await policy.getByRole('button', { name: 'Add level' }).click();
  await expect(policy.getByRole('button', { name: 'Add level' })).toBeDisabled();
  await expect(policy).toContainText('at most 5 levels');
  for (let i = 5; i >= 3; --i) await policy.getByRole('button', { name: `Remove level ${i}` }).click();
  await level2.getByLabel('Page').selectOption('user');
  await level2.getByLabel('Target').selectOption({ label: 'Alice' });
  await policy.getByRole('button', { name: 'Create policy' }).click();
  await expect(policy).toBeHidden();
  const policyRow = page.getByRole('table', { name: 'Escalation policies' }).getByRole('row').filter({ hasText: 'Night' });
  await expect(policyRow).toContainText('tenant default');
  await expect(policyRow).toContainText('on call in Primary, then after 5 min');
  await expect(policyRow).toContainText('Alice');
  await expect(policyRow).toContainText('1 more time');
  // Edited: the form comes prefilled.
  await policyRow.getByRole('button', { name: 'Edit policy Night' }).click();
  const edit = page.getByRole('form', { name: 'Edit policy Night' });
  await expect(edit.getByRole('group', { name: 'Level 2' })).toContainText('Alice');
  await edit.getByRole('button', { name: 'Cancel' }).click();

  // Alice's own webhook as a contact method.
  const methods = page.getByRole('region', { name: 'Contact methods' });
  await methods.getByLabel('Person', { exact: true }).selectOption({ label: 'Alice' });
  await methods.getByLabel('Kind', { exact: true }).selectOption('channel');
  await methods.getByLabel('Channel', { exact: true }).selectOption({ label: 'pager hook' });
  await methods.getByLabel('Label', { exact: true }).fill('desk hook');
  await methods.getByRole('button', { name: 'Add contact method' }).click();
  await expect(methods.getByRole('table', { name: 'Contact methods of the person' })).toContainText('desk hook');
  await expectAccessible(page, 'escalation');
  await screenshot(page, 'escalation');

  // A rule walks the policy.
  const rules = await admin.get<{ items: { id: string; name: string; escalation_policy_id: string | null }[] }>('/api/v1/rules');
  const rule = rules.items[0]!;
  await nav.getByRole('link', { name: 'Rules' }).click();
  await page.getByRole('button', { name: `Edit ${rule.name}` }).click();
  const ruleForm = page.getByRole('form', { name: `Edit ${rule.name}` });
  await expect(ruleForm.getByLabel('Escalation policy')).toContainText("the tenant's default (Night)");
  await ruleForm.getByLabel('Escalation policy').selectOption({ label: 'Night' });
  await ruleForm.getByRole('button', { name: 'Save' }).click();
  await expect(ruleForm).toBeHidden();
  const policies = await admin.get<{ items: { id: string; name: string }[] }>('/api/v1/escalation-policies');
  const saved = await admin.get<{ escalation_policy_id: string | null }>(`/api/v1/rules/${rule.id}`);
  expect(saved.escalation_policy_id).toBe(policies.items.find((p) => p.name === 'Night')!.id);

  // Maintenance: a weekly window for listed devices; a name nobody has is refused beside the field.
  await nav.getByRole('link', { name: 'Maintenance' }).click();
  await page.getByRole('button', { name: 'New window' }).click();
  const mw = page.getByRole('form', { name: 'New maintenance window' });
  await mw.getByLabel('Name', { exact: true }).fill('Weekend backup');
  await mw.getByLabel('Time zone', { exact: true }).selectOption('Europe/Berlin');
  await mw.getByLabel('Repeats').selectOption('weekly');
  await mw.getByLabel('Starts at').fill('02:00');
  await mw.getByLabel('Lasts (minutes)').fill('90');
  await mw.getByLabel('Covers').selectOption('devices');
  await mw.getByLabel('Device names (comma-separated)').fill('meter-1, no-such-meter');
  await mw.getByRole('button', { name: 'Create window' }).click();
  await expect(mw.getByRole('alert')).toHaveText('no device is named no-such-meter');
  await expect(mw.getByLabel('Device names (comma-separated)')).toHaveAttribute('aria-invalid', 'true');
  await mw.getByLabel('Device names (comma-separated)').fill('meter-1');
  await mw.getByRole('button', { name: 'Create window' }).click();
  await expect(mw).toBeHidden();
  const windows = page.getByRole('table', { name: 'Maintenance windows' });
  const weekly = windows.getByRole('row').filter({ hasText: 'Weekend backup' });
  await expect(weekly).toContainText('every Sat, Sun at 02:00 for 1 h 30 min (Europe/Berlin)');
  await expect(weekly).toContainText('1 device');

  // A one-off window now, for every device: in progress. Ending before it starts is the server's 422 on ends_at.
  await page.getByRole('button', { name: 'New window' }).click();
  await mw.getByLabel('Name', { exact: true }).fill('Gateway swap');
  await mw.getByLabel('Time zone', { exact: true }).selectOption('UTC');
  await mw.getByLabel('Starts (in its time zone)').fill(wall(now - 600_000, 'UTC'));
  await mw.getByLabel('Ends (in its time zone)').fill(wall(now - 1_200_000, 'UTC'));
  await mw.getByRole('button', { name: 'Create window' }).click();
  await expect(mw.getByLabel('Ends (in its time zone)')).toHaveAttribute('aria-invalid', 'true');
  await expect(mw.getByRole('alert')).toContainText('after starts_at');
  await mw.getByLabel('Ends (in its time zone)').fill(wall(now + 3_600_000, 'UTC'));
  await mw.getByRole('button', { name: 'Create window' }).click();
  await expect(mw).toBeHidden();
  const oneOff = windows.getByRole('row').filter({ hasText: 'Gateway swap' });
  await expect(oneOff).toContainText('in progress');
  await expect(oneOff).toContainText('every device');

  // Edited: prefilled, the device named again.
  await weekly.getByRole('button', { name: 'Edit window Weekend backup' }).click();
  const editWindow = page.getByRole('form', { name: 'Edit window Weekend backup' });
  await expect(editWindow.getByLabel('Device names (comma-separated)')).toHaveValue('meter-1');
  await expect(editWindow.getByRole('checkbox', { name: 'Sat' })).toBeChecked();
  await editWindow.getByRole('checkbox', { name: 'Wed' }).check();
  await editWindow.getByRole('button', { name: 'Save window' }).click();
  await expect(editWindow).toBeHidden();
  await expect(weekly).toContainText('every Wed, Sat, Sun at 02:00');
  await expectAccessible(page, 'maintenance');
  await screenshot(page, 'maintenance');

  await oneOff.getByRole('button', { name: 'Delete window Gateway swap' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  await expect(oneOff).toBeHidden();
});
