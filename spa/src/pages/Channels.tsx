// Notification channels and the routing rules that send alerts to them. A channel's settings are a form
// rendered from its sender's JSON Schema; secrets are write-only: shown as ***, kept unless retyped. A
// tenant-admin can send a channel a test notification (the answer shows under it), delete a channel (its
// routes go with it), and edit or delete a route.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { del, get, isProblem, post, put } from '../api/client';
import { useComponents, useSites } from '../api/queries';
import type { components } from '../api/schema.gen';
import { SEVERITIES, type Channel, type ChannelList, type NotificationGroupList, type RoutingRule, type RoutingRuleList, type Severity } from '../api/types';
import { can, usePrincipal } from '../auth/session';
import { ConfirmButton } from '../components/ConfirmButton';
import { FieldProblem } from '../components/FieldProblem';
import { ProblemMessage, fieldProblem, problemText } from '../components/Problem';
import { SchemaForm, configProblemField, defaultsOf, type Config } from '../components/SchemaForm';
import { TimeAgo } from '../components/TimeAgo';
import styles from './Channels.module.css';

type TestDelivery = components['schemas']['TestDelivery'];
type MessageTemplates = components['schemas']['MessageTemplates'];
type TemplatePreview = components['schemas']['TemplatePreview'];

export function Channels() {
  const principal = usePrincipal();
  const admin = can(principal, 'administer');
  const client = useQueryClient();
  const channels = useQuery({ queryKey: ['channels'], queryFn: ({ signal }) => get<ChannelList>('/api/v1/channels', undefined, signal) });
  const routes = useQuery({ queryKey: ['routing-rules'], queryFn: ({ signal }) => get<RoutingRuleList>('/api/v1/routing-rules', undefined, signal) });
  // Open groups change as alerts come and go: looked at again every 15 s.
  const groups = useQuery({
    queryKey: ['notification-groups'],
    queryFn: ({ signal }) => get<NotificationGroupList>('/api/v1/notification-groups', undefined, signal),
    refetchInterval: 15000,
  });
  const sites = useSites();
  const [editing, setEditing] = useState<Channel | 'new' | null>(null);
  const [routing, setRouting] = useState<RoutingRule | 'new' | null>(null);
  const name = new Map((channels.data?.items ?? []).map((c) => [c.id, c.name]));
  const siteName = new Map((sites.data?.items ?? []).map((s) => [s.id, s.name]));
  const routeCount = (channelId: string) => (routes.data?.items ?? []).filter((r) => r.channel_id === channelId).length;
  const refresh = () => {
    client.invalidateQueries({ queryKey: ['channels'] });
    client.invalidateQueries({ queryKey: ['routing-rules'] });
  };

  return (
    <section>
      <div className="row">
        <h1>Channels</h1>
        <span className="spacer" />
        {admin && !editing && (
          <button className="primary" onClick={() => setEditing('new')}>
            New channel
          </button>
        )}
      </div>
      {editing && (
        <ChannelForm
          key={editing === 'new' ? 'new' : editing.id}
          channel={editing === 'new' ? null : editing}
          onDone={() => {
            setEditing(null);
            refresh();
          }}
        />
      )}
      <ProblemMessage error={channels.error} />
      <div className="panel">
        <table aria-label="Channels">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Type</th>
              <th scope="col">Settings</th>
              <th scope="col">State</th>
              <th scope="col">Changed</th>
              {admin && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {(channels.data?.items ?? []).map((c) => (
              <ChannelRow
                key={c.id}
                channel={c}
                admin={admin}
                routes={routeCount(c.id)}
                onEdit={() => setEditing(c)}
                onDeleted={() => {
                  if (editing !== 'new' && editing?.id === c.id) setEditing(null);
                  if (routing !== 'new' && routing?.channel_id === c.id) setRouting(null);
                  refresh();
                }}
              />
            ))}
          </tbody>
        </table>
        {channels.data?.items.length === 0 && <p className="muted">No channels yet.</p>}
      </div>

      <div className="row">
        <h2>Routing</h2>
        <span className="spacer" />
        {admin && !routing && (channels.data?.items.length ?? 0) > 0 && <button onClick={() => setRouting('new')}>New route</button>}
      </div>
      <p className="muted">Which alerts go to which channel. An alert matches a route when it matches every filter the route sets.</p>
      {routing && (
        <RouteForm
          key={routing === 'new' ? 'new' : routing.id}
          route={routing === 'new' ? null : routing}
          channels={channels.data?.items ?? []}
          onDone={() => {
            setRouting(null);
            refresh();
          }}
        />
      )}
      <ProblemMessage error={routes.error} />
      <div className="panel">
        <table aria-label="Routing rules">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Channel</th>
              <th scope="col">Severities</th>
              <th scope="col">Rule types</th>
              <th scope="col">Site</th>
              <th scope="col">Tag</th>
              <th scope="col">Throttle</th>
              <th scope="col">Grouping</th>
              <th scope="col">State</th>
              {admin && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {(routes.data?.items ?? []).map((r) => {
              const label = r.name || 'unnamed route';
              return (
                <tr key={r.id}>
                  <td>{r.name || <span className="muted">unnamed</span>}</td>
                  <td>{name.get(r.channel_id) ?? r.channel_id}</td>
                  <td>{r.severities.length ? r.severities.join(', ') : 'every'}</td>
                  <td>{r.rule_types.length ? r.rule_types.join(', ') : 'every'}</td>
                  <td>{r.site_id ? (siteName.get(r.site_id) ?? r.site_id) : 'any'}</td>
                  <td>{r.tag ?? 'any'}</td>
                  <td>{r.throttle_s ? `${r.throttle_s} s` : 'none'}</td>
                  <td>{groupingText(r)}</td>
                  <td>{r.enabled ? 'enabled' : 'disabled'}</td>
                  {admin && (
                    <td>
                      <div className="row">
                        <button onClick={() => setRouting(r)} aria-label={`Edit route ${label}`}>
                          Edit
                        </button>
                        <ConfirmButton
                          label={`Delete route ${label}`}
                          title={`Delete the route ${label}?`}
                          message="Alerts stop going to its channel through it; the deliveries it made stay in the alerts' history."
                          confirmLabel="Delete"
                          danger
                          onConfirm={async () => {
                            await del(`/api/v1/routing-rules/${r.id}`);
                            if (routing !== 'new' && routing?.id === r.id) setRouting(null);
                            refresh();
                          }}
                        />
                      </div>
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
        {routes.data?.items.length === 0 && <p className="muted">No routes: alerts are not sent anywhere.</p>}
      </div>
      <h3>Open notification groups</h3>
      <ProblemMessage error={groups.error} />
      <div className="panel">
        <table aria-label="Notification groups">
          <thead>
            <tr>
              <th scope="col">Route</th>
              <th scope="col">Of</th>
              <th scope="col">Alerts</th>
              <th scope="col">Notices sent</th>
              <th scope="col">Next notice</th>
            </tr>
          </thead>
          <tbody>
            {(groups.data?.items ?? []).map((g) => {
              const route = (routes.data?.items ?? []).find((r) => r.id === g.routing_rule_id);
              const open = g.alerts.filter((a) => a.status === 'OPEN').length;
              return (
                <tr key={g.id}>
                  <td>{route ? route.name || 'unnamed route' : <span className="muted">deleted route</span>}</td>
                  <td>{[g.rule ? `rule ${g.rule.name}` : null, g.site ? `site ${g.site.name}` : null, g.key.includes('site:-') ? 'no site' : null].filter(Boolean).join(', ')}</td>
                  <td>
                    {g.alert_count}
                    {g.alert_count <= g.alerts.length ? ` (${open} open)` : ` (${open} open of the first ${g.alerts.length})`}
                    <ul>
                      {g.alerts.slice(0, 5).map((a) => (
                        <li key={a.id}>
                          <Link to={`/alerts?status=&open=${a.id}`}>
                            {a.severity} {a.device_name}: {a.summary}
                          </Link>{' '}
                          <span className="muted">{a.status.toLowerCase()}</span>
                        </li>
                      ))}
                    </ul>
                  </td>
                  <td>{g.notifications}</td>
                  <td>{g.next_notice_at ? <TimeAgo at={g.next_notice_at} /> : <span className="muted">when it changes</span>}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {groups.data?.items.length === 0 && <p className="muted">No open groups.</p>}
      </div>
    </section>
  );
}

// "by rule, site: 30 s wait, 300 s interval, repeat 14400 s", or "none".
function groupingText(r: RoutingRule): string {
  if (r.group_by.length === 0) return 'none';
  const repeat = r.repeat_interval_s ? `repeat ${r.repeat_interval_s} s` : 'no repeat';
  return `by ${r.group_by.join(', ')}: ${r.group_wait_s} s wait, ${r.group_interval_s} s interval, ${repeat}`;
}

interface ChannelRowProps {
  channel: Channel;
  admin: boolean;
  routes: number;
  onEdit: () => void;
  onDeleted: () => void;
}

// A channel, its actions, and under it the answer of its last test notification.
function ChannelRow({ channel: c, admin, routes, onEdit, onDeleted }: ChannelRowProps) {
  const [test, setTest] = useState<TestDelivery | null>(null);
  const [testError, setTestError] = useState<unknown>(null);
  const [testing, setTesting] = useState(false);
  const sendTest = async () => {
    setTesting(true);
    setTestError(null);
    setTest(null);
    try {
      setTest(await post<TestDelivery>(`/api/v1/channels/${c.id}/test`));
    } catch (e) {
      setTestError(e);
    } finally {
      setTesting(false);
    }
  };
  return (
    <>
      <tr>
        <td>{c.name}</td>
        <td>{c.type}</td>
        <td className="mono">{JSON.stringify(c.config)}</td>
        <td>{c.enabled ? 'enabled' : `disabled: ${c.disabled_reason ?? ''}`}</td>
        <td>
          <TimeAgo at={c.updated_at} />
        </td>
        {admin && (
          <td>
            <div className="row">
              <button onClick={onEdit} aria-label={`Edit ${c.name}`}>
                Edit
              </button>
              <button onClick={sendTest} disabled={testing} aria-label={`Send test notification to ${c.name}`}>
                {testing ? 'Sending…' : 'Send test notification'}
              </button>
              <ConfirmButton
                label={`Delete ${c.name}`}
                title={`Delete the channel ${c.name}?`}
                message={`Its routing rules go with it (${routes === 1 ? 'one route' : `${routes} routes`}); its deliveries stay in the alerts' history, and pending ones end as failed.`}
                confirmLabel="Delete"
                danger
                onConfirm={async () => {
                  await del(`/api/v1/channels/${c.id}`);
                  onDeleted();
                }}
              />
            </div>
          </td>
        )}
      </tr>
      {admin && (test || testError || testing) && (
        <tr className={styles.testRow}>
          <td colSpan={6}>
            <div role="status" aria-label={`Test notification to ${c.name}`} className={styles.test}>
              {testing && <span className="muted">Sending a test notification…</span>}
              {test && <TestResult result={test} />}
              <ProblemMessage error={testError} />
            </div>
          </td>
        </tr>
      )}
    </>
  );
}

const OUTCOME_CLASS: Record<TestDelivery['outcome'], string> = {
  delivered: 'status-ONLINE',
  retry: 'status-STALE',
  permanent: 'status-OFFLINE',
};

const OUTCOME_TEXT: Record<TestDelivery['outcome'], string> = {
  delivered: 'the other side took it',
  retry: 'a real delivery would be tried again',
  permanent: 'a real delivery would fail for good',
};

function TestResult({ result }: { result: TestDelivery }) {
  return (
    <dl className={`facts ${styles.facts}`}>
      <dt>Test notification</dt>
      <dd>
        <span className={`badge ${OUTCOME_CLASS[result.outcome]}`} data-testid="test-outcome">
          {result.outcome}
        </span>{' '}
        <span className="muted">{OUTCOME_TEXT[result.outcome]}</span>
      </dd>
      <dt>HTTP status</dt>
      <dd>{result.status_code ?? 'no answer'}</dd>
      <dt>Detail</dt>
      <dd className="mono">{result.detail || '–'}</dd>
      <dt>Took</dt>
      <dd>{result.duration_ms} ms</dd>
    </dl>
  );
}

function ChannelForm({ channel, onDone }: { channel: Channel | null; onDone: () => void }) {
  const senders = useComponents('sender');
  const [name, setName] = useState(channel?.name ?? '');
  const [type, setType] = useState(channel?.type ?? '');
  const [config, setConfig] = useState<Config>((channel?.config as Config) ?? {});
  const [templates, setTemplates] = useState<MessageTemplates>(channel?.templates ?? {});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const chosen = type || senders.data?.[0]?.type || '';
  const component = senders.data?.find((c) => c.type === chosen);
  const problemField = isProblem(error) && error.field === 'config' ? configProblemField(error.detail) : undefined;
  const nameProblem = fieldProblem(error, 'name');
  const wordingChanged = (templates.title ?? '') !== (channel?.templates?.title ?? '') || (templates.text ?? '') !== (channel?.templates?.text ?? '');

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      // The templates are checked first, so that a wrong one saves nothing.
      if (wordingChanged) await post('/api/v1/message-templates/preview', templates);
      let id = channel?.id;
      if (channel) await put(`/api/v1/channels/${channel.id}/config`, config);
      else id = (await post<Channel>('/api/v1/channels', { name, type: chosen, config })).id;
      if (wordingChanged && id) await put(`/api/v1/channels/${id}/templates`, templates);
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="panel" onSubmit={save} aria-label={channel ? `Edit ${channel.name}` : 'New channel'}>
      <h2>{channel ? `Edit ${channel.name}` : 'New channel'}</h2>
      <div className="form-grid">
        <div className="field">
          <label htmlFor="channel-name">Name</label>
          <input
            id="channel-name"
            required
            maxLength={200}
            disabled={Boolean(channel)}
            value={name}
            aria-invalid={Boolean(nameProblem)}
            aria-describedby={nameProblem ? 'channel-name-problem' : undefined}
            onChange={(e) => setName(e.target.value)}
          />
          <FieldProblem id="channel-name-problem" text={nameProblem} />
        </div>
        <div className="field">
          <label htmlFor="channel-type">Type</label>
          <select
            id="channel-type"
            disabled={Boolean(channel)}
            value={chosen}
            onChange={(e) => {
              setType(e.target.value);
              setConfig(defaultsOf(senders.data?.find((c) => c.type === e.target.value)?.config_schema));
            }}
          >
            {(senders.data ?? []).map((c) => (
              <option key={c.type} value={c.type}>
                {c.type}: {c.description}
              </option>
            ))}
          </select>
        </div>
      </div>
      {component?.config_schema ? (
        <SchemaForm
          idPrefix="channel-config"
          schema={component.config_schema}
          value={config}
          onChange={setConfig}
          problemField={problemField}
          problemText={problemField ? problemText(error) : undefined}
        />
      ) : (
        <p className="muted">This sender has no settings.</p>
      )}
      <MessageEditor templates={templates} onChange={setTemplates} error={error} />
      {!problemField && !nameProblem && !fieldProblem(error, 'title') && !fieldProblem(error, 'text') && <ProblemMessage error={error} />}
      <div className="form-actions">
        <button className="primary" type="submit" disabled={busy}>
          {channel ? 'Save' : 'Create'}
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

// The channel's own wording: Mustache over the alert notice, previewed on a sample alert before saving.
function MessageEditor({ templates, onChange, error }: { templates: MessageTemplates; onChange: (t: MessageTemplates) => void; error: unknown }) {
  const [preview, setPreview] = useState<TemplatePreview | null>(null);
  const [previewError, setPreviewError] = useState<unknown>(null);
  const shown = previewError ?? error;
  const problem = (field: 'title' | 'text') => fieldProblem(shown, field);
  const show = async () => {
    setPreview(null);
    setPreviewError(null);
    try {
      setPreview(await post<TemplatePreview>('/api/v1/message-templates/preview', templates));
    } catch (e) {
      setPreviewError(e);
    }
  };
  const field = (key: 'title' | 'text', label: string, help: string, rows: number) => (
    <div className="field">
      <label htmlFor={`channel-message-${key}`}>{label}</label>
      <textarea
        id={`channel-message-${key}`}
        rows={rows}
        maxLength={2000}
        value={templates[key] ?? ''}
        placeholder="the sender's own wording"
        aria-invalid={Boolean(problem(key))}
        aria-describedby={`channel-message-${key}-help${problem(key) ? ` channel-message-${key}-problem` : ''}`}
        onChange={(e) => onChange({ ...templates, [key]: e.target.value })}
      />
      <div id={`channel-message-${key}-help`} className="muted">
        {help}
      </div>
      <FieldProblem id={`channel-message-${key}-problem`} text={problem(key)} />
    </div>
  );
  return (
    <fieldset className={styles.message}>
      <legend>Message (optional)</legend>
      {field('title', 'Title template', 'a chat message\'s header, a mail\'s subject; e.g. [{{alert.severity}}] {{alert.rule.name}} on {{alert.device.name}}', 1)}
      {field('text', 'Text template', 'in place of the summary; e.g. {{alert.summary}}{{#alert.site}} at {{name}}{{/alert.site}}', 3)}
      <div className="row">
        <button type="button" onClick={show}>
          Preview
        </button>
      </div>
      {preview && (
        <div role="status" aria-label="Message preview">
          <dl className={`facts ${styles.facts}`}>
          <dt>Title</dt>
          <dd data-testid="preview-title">{preview.title || <span className="muted">the sender's own</span>}</dd>
          <dt>Text</dt>
          <dd data-testid="preview-text">{preview.text || <span className="muted">the alert's summary</span>}</dd>
          <dt>Sample</dt>
          <dd className="muted">a CRITICAL alert "too hot" on boiler-2 at Plant 1</dd>
          </dl>
        </div>
      )}
    </fieldset>
  );
}

const ROUTE_FIELDS = [
  'name',
  'channel_id',
  'severities',
  'rule_types',
  'site_id',
  'tag',
  'throttle_s',
  'group_by',
  'group_wait_s',
  'group_interval_s',
  'repeat_interval_s',
  'enabled',
] as const;
const GROUP_BY = ['rule', 'site'] as const;

// A new route, or one to edit (prefilled; saved whole, as the API's PUT takes it).
function RouteForm({ route, channels, onDone }: { route: RoutingRule | null; channels: Channel[]; onDone: () => void }) {
  const sites = useSites();
  const ruleTypes = useComponents('rule');
  const [channelId, setChannelId] = useState(route?.channel_id ?? channels[0]?.id ?? '');
  const [name, setName] = useState(route?.name ?? '');
  const [severities, setSeverities] = useState<Severity[]>((route?.severities as Severity[] | undefined) ?? []);
  const [types, setTypes] = useState<string[]>(route?.rule_types ?? []);
  const [siteId, setSiteId] = useState(route?.site_id ?? '');
  const [tag, setTag] = useState(route?.tag ?? '');
  const [throttle, setThrottle] = useState(String(route?.throttle_s ?? 0));
  const [enabled, setEnabled] = useState(route?.enabled ?? true);
  const [groupBy, setGroupBy] = useState<string[]>(route?.group_by ?? []);
  const [groupWait, setGroupWait] = useState(String(route?.group_wait_s ?? 30));
  const [groupInterval, setGroupInterval] = useState(String(route?.group_interval_s ?? 300));
  const [repeatInterval, setRepeatInterval] = useState(String(route?.repeat_interval_s ?? 14400));
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const title = route ? `Edit route ${route.name || 'unnamed route'}` : 'New route';
  // Every rule type the server has, and any the route names that it no longer has.
  const typeChoices = [...new Set([...(ruleTypes.data ?? []).map((c) => c.type), ...types])];
  const problem = (field: (typeof ROUTE_FIELDS)[number]) => fieldProblem(error, field);
  const unplaced = Boolean(error) && !(isProblem(error) && (ROUTE_FIELDS as readonly string[]).includes(error.field ?? ''));
  const invalid = (field: (typeof ROUTE_FIELDS)[number], id: string) => ({
    'aria-invalid': Boolean(problem(field)),
    'aria-describedby': problem(field) ? `${id}-problem` : undefined,
  });

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body = {
      channel_id: channelId,
      name,
      severities,
      rule_types: types,
      throttle_s: Number(throttle),
      enabled,
      group_by: groupBy,
      group_wait_s: Number(groupWait),
      group_interval_s: Number(groupInterval),
      repeat_interval_s: Number(repeatInterval),
      ...(siteId ? { site_id: siteId } : {}),
      ...(tag ? { tag } : {}),
    };
    try {
      if (route) await put(`/api/v1/routing-rules/${route.id}`, body);
      else await post('/api/v1/routing-rules', body);
      onDone();
    } catch (err) {
      setError(err); // what was typed stays
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="panel" onSubmit={save} aria-label={title}>
      <h3>{title}</h3>
      <div className="form-grid">
        <div className="field">
          <label htmlFor="route-name">Name</label>
          <input id="route-name" maxLength={200} value={name} {...invalid('name', 'route-name')} onChange={(e) => setName(e.target.value)} />
          <FieldProblem id="route-name-problem" text={problem('name')} />
        </div>
        <div className="field">
          <label htmlFor="route-channel">Channel</label>
          <select id="route-channel" value={channelId} {...invalid('channel_id', 'route-channel')} onChange={(e) => setChannelId(e.target.value)}>
            {channels.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
          <FieldProblem id="route-channel-problem" text={problem('channel_id')} />
        </div>
        <fieldset className="field" aria-describedby={problem('severities') ? 'route-severities-problem' : undefined}>
          <legend>Severities (none: every)</legend>
          {SEVERITIES.map((s) => (
            <label key={s} className="row">
              <input
                type="checkbox"
                checked={severities.includes(s)}
                onChange={(e) => setSeverities(e.target.checked ? [...severities, s] : severities.filter((x) => x !== s))}
              />
              {s}
            </label>
          ))}
          <FieldProblem id="route-severities-problem" text={problem('severities')} />
        </fieldset>
        <fieldset className="field" aria-describedby={problem('rule_types') ? 'route-types-problem' : undefined}>
          <legend>Rule types (none: every)</legend>
          {typeChoices.map((t) => (
            <label key={t} className="row">
              <input type="checkbox" checked={types.includes(t)} onChange={(e) => setTypes(e.target.checked ? [...types, t] : types.filter((x) => x !== t))} />
              {t}
            </label>
          ))}
          <FieldProblem id="route-types-problem" text={problem('rule_types')} />
        </fieldset>
        <div className="field">
          <label htmlFor="route-site">Site</label>
          <select id="route-site" value={siteId} {...invalid('site_id', 'route-site')} onChange={(e) => setSiteId(e.target.value)}>
            <option value="">any</option>
            {(sites.data?.items ?? []).map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
          <FieldProblem id="route-site-problem" text={problem('site_id')} />
        </div>
        <div className="field">
          <label htmlFor="route-tag">Tag</label>
          <input id="route-tag" maxLength={64} value={tag} {...invalid('tag', 'route-tag')} onChange={(e) => setTag(e.target.value)} />
          <FieldProblem id="route-tag-problem" text={problem('tag')} />
        </div>
        <div className="field">
          <label htmlFor="route-throttle">Throttle (s)</label>
          <input
            id="route-throttle"
            type="number"
            required
            min={0}
            max={604800}
            step={1}
            value={throttle}
            {...invalid('throttle_s', 'route-throttle')}
            onChange={(e) => setThrottle(e.target.value)}
          />
          <FieldProblem id="route-throttle-problem" text={problem('throttle_s')} />
        </div>
        <fieldset className="field" aria-describedby={problem('group_by') ? 'route-group-by-problem' : undefined}>
          <legend>Group notices by (none: a notice per alert)</legend>
          {GROUP_BY.map((g) => (
            <label key={g} className="row">
              <input
                type="checkbox"
                checked={groupBy.includes(g)}
                onChange={(e) => setGroupBy(e.target.checked ? GROUP_BY.filter((x) => x === g || groupBy.includes(x)) : groupBy.filter((x) => x !== g))}
              />
              {g}
            </label>
          ))}
          <FieldProblem id="route-group-by-problem" text={problem('group_by')} />
        </fieldset>
        {groupBy.length > 0 &&
          (
            [
              ['group_wait_s', 'route-group-wait', 'Group wait (s)', groupWait, setGroupWait, 0, 3600],
              ['group_interval_s', 'route-group-interval', 'Group interval (s)', groupInterval, setGroupInterval, 1, 86400],
              ['repeat_interval_s', 'route-repeat-interval', 'Repeat interval (s, 0: never)', repeatInterval, setRepeatInterval, 0, 604800],
            ] as const
          ).map(([field, id, label, value, set, min, max]) => (
            <div className="field" key={field}>
              <label htmlFor={id}>{label}</label>
              <input
                id={id}
                type="number"
                required
                min={min}
                max={max}
                step={1}
                value={value}
                {...invalid(field, id)}
                onChange={(e) => set(e.target.value)}
              />
              <FieldProblem id={`${id}-problem`} text={problem(field)} />
            </div>
          ))}
        <div className="field">
          <label className="row">
            <input type="checkbox" checked={enabled} {...invalid('enabled', 'route-enabled')} onChange={(e) => setEnabled(e.target.checked)} />
            Enabled
          </label>
          <FieldProblem id="route-enabled-problem" text={problem('enabled')} />
        </div>
      </div>
      {unplaced && <ProblemMessage error={error} />}
      <div className="form-actions">
        <button className="primary" type="submit" disabled={busy}>
          {route ? 'Save route' : 'Create route'}
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
