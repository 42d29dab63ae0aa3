// The senders in the console: a Slack channel and a Teams channel made from their plugins' schemas (the webhook
// URL write-only, a retired Office 365 connector URL refused beside the field), each sent a test notification
// that the strict stand-in of the service accepts; and an e-mail channel (a select, a list of recipients) whose
// test mail the real SMTP server (aiosmtpd) receives; and an SNMP channel whose test inform the real
// snmptrapd (tests/standins/trap_receiver.py) acknowledges and logs.
import { expectAccessible } from './support/axe';
import { startStandIn, type StandIn } from './support/standin';
import { expect, screenshot, signIn, test } from './support/test';

const SLACK_PATH = '/services/T0CONSOLE/B0CONSOLE/abcdefghijklmnopqrstuvwx';
const TEAMS_PATH = '/workflows/0c0ffee/triggers/manual/paths/invoke';
const TEAMS_QUERY = '?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=console-sig';

let slack: StandIn;
let teams: StandIn;
let smtp: StandIn;
let traps: StandIn;
test.beforeAll(async () => {
  traps = await startStandIn('trap_receiver.py');
  smtp = await startStandIn('smtp_server.py');
  slack = await startStandIn('slack_standin.py');
  teams = await startStandIn('teams_standin.py', ['--sig', 'console-sig']);
});
test.afterAll(async () => {
  await slack?.stop();
  await teams?.stop();
  await smtp?.stop();
  await traps?.stop();
});

test('Slack, Teams, e-mail and SNMP channels from their schemas, each sent a test notification the service accepts', async ({ page, pulse, watch }) => {
  watch.allowStatus(422);
  await signIn(page, pulse.admin.email, pulse.admin.password);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Channels' }).click();

  await page.getByRole('button', { name: 'New channel' }).click();
  let form = page.getByRole('form', { name: 'New channel' });
  await form.getByLabel('Name').fill('ops slack');
  await form.getByLabel('Type').selectOption('slack');
  const url = form.getByLabel('url', { exact: true });
  await expect(url).toHaveAttribute('type', 'password'); // the URL is the credential
  await url.fill(slack.url(SLACK_PATH));
  await form.getByLabel('mention (optional)', { exact: true }).fill('<!here>');
  await expectAccessible(page, 'slack channel form');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(form).toBeHidden();
  const channels = page.getByRole('table', { name: 'Channels' });
  const row = channels.getByRole('row').filter({ hasText: 'ops slack' });
  await expect(row).toContainText('"url":"***"');
  await expect(row).not.toContainText('abcdefghijklmnopqrstuvwx');
  await channels.getByRole('button', { name: 'Send test notification to ops slack' }).click();
  await expect(page.getByRole('status', { name: 'Test notification to ops slack' }).getByTestId('test-outcome')).toHaveText('delivered');
  const sent = (await slack.requests()).filter((r) => r.path === SLACK_PATH);
  expect(sent).toHaveLength(1);
  expect(sent[0]!.valid, JSON.stringify(sent[0]!.problems)).toBe(true);
  expect(JSON.stringify(sent[0]!.body)).toContain('Test notification from Pulse');

  // Teams: the retired connector URLs are refused where they were typed.
  await page.getByRole('button', { name: 'New channel' }).click();
  form = page.getByRole('form', { name: 'New channel' });
  await form.getByLabel('Name').fill('ops teams');
  await form.getByLabel('Type').selectOption('teams');
  await form.getByLabel('url', { exact: true }).fill('https://acme.webhook.office.com/webhookb2/0123@abcd/IncomingWebhook/x/y');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(form.getByRole('alert')).toContainText('url');
  await form.getByLabel('url', { exact: true }).fill(teams.url(TEAMS_PATH + TEAMS_QUERY));
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(form).toBeHidden();
  await channels.getByRole('button', { name: 'Send test notification to ops teams' }).click();
  await expect(page.getByRole('status', { name: 'Test notification to ops teams' }).getByTestId('test-outcome')).toHaveText('delivered');
  const cards = (await teams.requests()).filter((r) => r.path === TEAMS_PATH);
  expect(cards).toHaveLength(1);
  expect(cards[0]!.status).toBe(202);
  expect(cards[0]!.valid, JSON.stringify(cards[0]!.problems)).toBe(true);

  // E-mail through the server's plaintext listener.
  const info = (await (await fetch(smtp.url('/_info'))).json()) as { ports: { plain: number } };
  await page.getByRole('button', { name: 'New channel' }).click();
  form = page.getByRole('form', { name: 'New channel' });
  await form.getByLabel('Name').fill('ops mail');
  await form.getByLabel('Type').selectOption('smtp');
  await form.getByLabel('host', { exact: true }).fill('127.0.0.1');
  await form.getByLabel('port (optional)', { exact: true }).fill(String(info.ports.plain));
  await form.getByLabel('tls (optional)', { exact: true }).selectOption('none');
  await form.getByLabel('from', { exact: true }).fill('alerts@pulse.example.com');
  await form.getByLabel('to', { exact: true }).fill('oncall@example.com\nops@example.com');
  // The relay's settings in the order one fills them in (the schema's x-order), not by name.
  const labels = await form.locator('.schema-form label').allTextContents();
  expect(labels.slice(0, 7)).toEqual(['host', 'from', 'to', 'port (optional)', 'tls (optional)', 'username (optional)', 'password (optional)']);
  await expectAccessible(page, 'e-mail channel form');
  await screenshot(page, 'channel-email');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(form).toBeHidden();
  await channels.getByRole('button', { name: 'Send test notification to ops mail' }).click();
  await expect(page.getByRole('status', { name: 'Test notification to ops mail' }).getByTestId('test-outcome')).toHaveText('delivered');
  const mails = (await smtp.requests()) as unknown as Array<{ rcpt_tos: string[]; valid: boolean; problems: string[]; headers: Record<string, string> }>;
  expect(mails).toHaveLength(1);
  expect(mails[0]!.valid, JSON.stringify(mails[0]!.problems)).toBe(true);
  expect(mails[0]!.rcpt_tos).toEqual(['oncall@example.com', 'ops@example.com']);
  expect(mails[0]!.headers['subject']).toContain('Test notification from Pulse');

  // SNMP: a v2c inform to the real snmptrapd, the community write-only.
  const trapInfo = (await (await fetch(traps.url('/_info'))).json()) as { port: number; community: string };
  await page.getByRole('button', { name: 'New channel' }).click();
  form = page.getByRole('form', { name: 'New channel' });
  await form.getByLabel('Name').fill('ops nms');
  await form.getByLabel('Type').selectOption('snmp');
  await form.getByLabel('host', { exact: true }).fill('127.0.0.1');
  await form.getByLabel('port (optional)', { exact: true }).fill(String(trapInfo.port));
  await expect(form.getByLabel('version (optional)', { exact: true })).toHaveValue('2c');
  await expect(form.getByLabel('notification (optional)', { exact: true })).toHaveValue('inform');
  const community = form.getByLabel('community (optional)', { exact: true });
  await expect(community).toHaveAttribute('type', 'password');
  await community.fill(trapInfo.community);
  await expectAccessible(page, 'snmp channel form');
  await screenshot(page, 'channel-snmp');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(form).toBeHidden();
  await expect(channels.getByRole('row').filter({ hasText: 'ops nms' })).not.toContainText(trapInfo.community);
  await channels.getByRole('button', { name: 'Send test notification to ops nms' }).click();
  await expect(page.getByRole('status', { name: 'Test notification to ops nms' }).getByTestId('test-outcome')).toHaveText('delivered');
  const informs = (await traps.requests()) as unknown as Array<{ pdu: string; version: string; security: string; valid: boolean; problems: string[]; varbinds: Array<{ oid: string; value: string }> }>;
  expect(informs).toHaveLength(1);
  expect(informs[0]!.valid, JSON.stringify(informs[0]!.problems)).toBe(true);
  expect([informs[0]!.pdu, informs[0]!.version, informs[0]!.security]).toEqual(['INFORM', 'v2c', trapInfo.community]);
  expect(informs[0]!.varbinds.find((v) => v.oid === '.1.3.6.1.4.1.32473.1.1.8.0')?.value).toContain('Test notification from Pulse');
  await expectAccessible(page, 'channels with senders');
});

test("a channel's message templates: refused where wrong, previewed on a sample alert, used by the test notification", async ({ page, pulse, watch }) => {
  watch.allowStatus(422);
  await signIn(page, pulse.admin.email, pulse.admin.password);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Channels' }).click();
  await page.getByRole('button', { name: 'New channel' }).click();
  const form = page.getByRole('form', { name: 'New channel' });
  await form.getByLabel('Name').fill('worded slack');
  await form.getByLabel('Type').selectOption('slack');
  await form.getByLabel('url', { exact: true }).fill(slack.url(SLACK_PATH));
  const title = form.getByLabel('Title template');
  await title.fill('{{alert.sevrity}} on {{alert.device.name}}');
  await form.getByRole('button', { name: 'Preview' }).click();
  await expect(form.getByRole('alert')).toContainText('{{alert.sevrity}} is not a field of the alert notice');
  await expect(title).toHaveAttribute('aria-invalid', 'true');
  await title.fill('{{alert.severity}} on {{alert.device.name}}');
  await form.getByLabel('Text template').fill('{{alert.summary}}{{#alert.site}} at {{name}}{{/alert.site}}');
  await form.getByRole('button', { name: 'Preview' }).click();
  const preview = form.getByRole('status', { name: 'Message preview' });
  await expect(preview.getByTestId('preview-title')).toHaveText('CRITICAL on boiler-2');
  await expect(preview.getByTestId('preview-text')).toHaveText('temperature 91 > 80 at Plant 1');
  await expectAccessible(page, 'channel message templates');
  await screenshot(page, 'channel-message');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(form).toBeHidden();
  const channels = page.getByRole('table', { name: 'Channels' });
  await channels.getByRole('button', { name: 'Send test notification to worded slack' }).click();
  await expect(page.getByRole('status', { name: 'Test notification to worded slack' }).getByTestId('test-outcome')).toHaveText('delivered');
  const sent = (await slack.requests()).filter((r) => r.path === SLACK_PATH);
  const last = sent[sent.length - 1]!;
  expect(last.valid, JSON.stringify(last.problems)).toBe(true);
  // The test notice is INFO on the device pulse-test; the header is the rendered title.
  expect(JSON.stringify(last.body)).toContain('"text":"INFO on pulse-test"');
  // Editing the channel shows its templates.
  await channels.getByRole('button', { name: 'Edit worded slack' }).click();
  await expect(page.getByRole('form', { name: 'Edit worded slack' }).getByLabel('Title template')).toHaveValue('{{alert.severity}} on {{alert.device.name}}');
});
