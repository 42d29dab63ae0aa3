// Bulk import: the browser's preview lists every problem by line and holds the import back; the server's
// problems (a name already in use) land in the same preview; a clean file imports all, tokens shown once.
import { expectAccessible } from './support/axe';
import { expect, screenshot, signIn, test } from './support/test';

const file = (text: string) => ({ name: 'devices.csv', mimeType: 'text/csv', buffer: Buffer.from(text) });

test('a CSV is previewed with its problems by line, then imported all or nothing', async ({ page, pulse, admin, watch }) => {
  watch.allowStatus(422);
  await admin.post('/api/v1/sites', { name: 'Depot', time_zone: 'Europe/Paris' });
  await signIn(page, pulse.admin.email, pulse.admin.password);
  await page.goto('/devices');
  await page.getByRole('link', { name: 'Import CSV' }).click();

  await page.getByLabel('CSV file').setInputFiles(file('name,tags,site\npump-1,pumps;north,Depot\nbad name,,\npump-3,,Nowhere\npump-1,,\n'));
  await expect(page.getByTestId('import-summary')).toHaveText('devices.csv: 4 devices, 3 with problems');
  await expect(page.getByTestId('line-2')).toContainText('ok');
  await expect(page.getByTestId('line-3')).toContainText('must be 1-128 of A-Z');
  await expect(page.getByTestId('line-4')).toContainText("no site named 'Nowhere'");
  await expect(page.getByTestId('line-5')).toContainText('the name is also on line 2');
  await expect(page.getByRole('button', { name: 'Import 4 devices' })).toBeDisabled();
  await expectAccessible(page, 'import preview');
  await screenshot(page, 'import');

  // Clean in the browser, but boiler-1 exists: the server refuses the whole file and says which line.
  await page.getByLabel('CSV file').setInputFiles(file('name,tags,site\npump-1,pumps,Depot\nboiler-1,,\n'));
  await page.getByRole('button', { name: 'Import 2 devices' }).click();
  await expect(page.getByTestId('line-3')).toContainText('name');
  await expect(page.getByTestId('line-3')).not.toContainText('ok');
  const before = await admin.get<{ items: unknown[] }>('/api/v1/devices?q=pump');
  expect(before.items).toHaveLength(0);

  await page.getByLabel('CSV file').setInputFiles(file('name,tags,site\npump-1,pumps,Depot\npump-2,pumps,Depot\n'));
  await page.getByRole('button', { name: 'Import 2 devices' }).click();
  await expect(page.getByRole('status')).toContainText('2 devices imported');
  await expect(page.getByRole('table', { name: 'Imported devices' }).getByRole('row')).toHaveCount(3);
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download the tokens' }).click();
  expect((await download).suggestedFilename()).toBe('device-tokens.csv');
});
