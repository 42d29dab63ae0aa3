// Rules: the list, a rule created through the form its type's JSON Schema renders, a server problem shown
// with what was typed kept, an edit and a delete; the preview of what a rule would have done.
import { ingest } from './support/api';
import { expectAccessible } from './support/axe';
import { expect, screenshot, signIn, test } from './support/test';

test('a rule is created from its schema-rendered form, edited and deleted', async ({ page, pulse, watch }) => {
  watch.allowStatus(409);
  await signIn(page, pulse.admin.email, pulse.admin.password);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Rules' }).click();
  const list = page.getByRole('table', { name: 'Rules' });
  await expect(list).toContainText('High temperature'); // the demo's
  await page.getByRole('button', { name: 'New rule' }).click();
  const form = page.getByRole('form', { name: 'New rule' });
  await form.getByLabel('Type').selectOption('threshold');
  // The threshold plugin's own settings, from its config schema:
  await form.getByLabel('metric', { exact: true }).fill('humidity');
  await form.getByLabel('operator', { exact: true }).selectOption('GT');
  await form.getByLabel('threshold', { exact: true }).fill('70');
  await form.getByLabel('Severity').selectOption('MEDIUM');
  await form.getByLabel('Applies to').selectOption('tag');
  await form.getByLabel('Tag').fill('demo');
  await expectAccessible(page, 'rule form');
  await screenshot(page, 'rule-form');
  // A name in use: the API's 409, shown in the form, nothing typed lost.
  await form.getByLabel('Name').fill('High temperature');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(form.getByRole('alert')).toContainText(/name/);
  await expect(form.getByLabel('metric', { exact: true })).toHaveValue('humidity');
  await form.getByLabel('Name').fill('Humid');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(form).toBeHidden();
  const row = list.getByRole('row').filter({ hasText: 'Humid' });
  await expect(row).toContainText('MEDIUM');
  await expect(row).toContainText('tag demo');
  await expect(row).toContainText('"metric":"humidity"');

  await row.getByRole('button', { name: 'Edit Humid' }).click();
  const edit = page.getByRole('form', { name: 'Edit Humid' });
  await expect(edit.getByLabel('metric', { exact: true })).toHaveValue('humidity');
  await edit.getByLabel('Severity').selectOption('LOW');
  await edit.getByRole('button', { name: 'Save' }).click();
  await expect(row).toContainText('LOW');

  await row.getByRole('button', { name: 'Delete Humid' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  await expect(list.getByRole('row').filter({ hasText: 'Humid' })).toHaveCount(0);
  await expectAccessible(page, 'rules');
  await screenshot(page, 'rules');
});

test('the preview says how often the rule in the form would have fired over the stored readings', async ({ page, pulse }) => {
  // Three hours ago, a reading a minute on boiler-1: above 70 twice, with a dip between.
  const start = Date.now() - 3 * 3600_000;
  const values = [50, 75, 76, 60, 72, 40];
  await ingest(
    pulse.baseURL,
    pulse.deviceTokens['boiler-1']!,
    values.map((v, i) => ({ ts: start + i * 60_000, values: { humidity: v } })),
  );
  await signIn(page, pulse.admin.email, pulse.admin.password);
  await page.goto('/rules');
  await page.getByRole('button', { name: 'New rule' }).click();
  const form = page.getByRole('form', { name: 'New rule' });
  await form.getByLabel('Type').selectOption('threshold');
  await form.getByLabel('metric', { exact: true }).fill('humidity');
  await form.getByLabel('operator', { exact: true }).selectOption('GT');
  await form.getByLabel('threshold', { exact: true }).fill('70');
  const preview = form.getByRole('region', { name: 'Rule preview' });
  await preview.getByRole('button', { name: 'Preview the last 24 hours' }).click();
  await expect(preview.getByRole('status')).toContainText('would have fired 2 times in the last 24 hours');
  const moments = preview.getByRole('table', { name: 'Preview openings' });
  await expect(moments.getByRole('row')).toHaveCount(3); // the header and two openings
  await expect(moments).toContainText('boiler-1');
  await expect(preview.locator('canvas').first()).toBeVisible(); // the openings per hour
  // A stricter threshold, previewed again: once.
  await form.getByLabel('threshold', { exact: true }).fill('75.5');
  await preview.getByRole('button', { name: 'Preview the last 24 hours' }).click();
  await expect(preview.getByRole('status')).toContainText('would have fired 1 time in');
  await expectAccessible(page, 'rule preview');
  await screenshot(page, 'rule-preview');
  // Nothing was saved.
  await form.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('table', { name: 'Rules' })).not.toContainText('preview');
});
