// Notification channels and the routing rules that send alerts to them. A channel's settings are a form
// rendered from its sender's JSON Schema; secrets are write-only: shown as ***, kept unless retyped.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { get, isProblem, post, put } from '../api/client';
import { useComponents, useSites } from '../api/queries';
import { SEVERITIES, type Channel, type ChannelList, type RoutingRuleList, type Severity } from '../api/types';
import { can, usePrincipal } from '../auth/session';
import { ProblemMessage, problemText } from '../components/Problem';
import { SchemaForm, configProblemField, defaultsOf, type Config } from '../components/SchemaForm';
import { TimeAgo } from '../components/TimeAgo';

export function Channels() {
  const principal = usePrincipal();
  const admin = can(principal, 'administer');
  const client = useQueryClient();
  const channels = useQuery({ queryKey: ['channels'], queryFn: ({ signal }) => get<ChannelList>('/api/v1/channels', undefined, signal) });
  const routes = useQuery({ queryKey: ['routing-rules'], queryFn: ({ signal }) => get<RoutingRuleList>('/api/v1/routing-rules', undefined, signal) });
  const [editing, setEditing] = useState<Channel | 'new' | null>(null);
  const [routing, setRouting] = useState(false);
  const name = new Map((channels.data?.items ?? []).map((c) => [c.id, c.name]));
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
              <tr key={c.id}>
                <td>{c.name}</td>
                <td>{c.type}</td>
                <td className="mono">{JSON.stringify(c.config)}</td>
                <td>{c.enabled ? 'enabled' : `disabled: ${c.disabled_reason ?? ''}`}</td>
                <td>
                  <TimeAgo at={c.updated_at} />
                </td>
                {admin && (
                  <td>
                    <button onClick={() => setEditing(c)} aria-label={`Edit ${c.name}`}>
                      Edit
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <div className="row">
        <h2>Routing</h2>
        <span className="spacer" />
        {admin && !routing && (channels.data?.items.length ?? 0) > 0 && <button onClick={() => setRouting(true)}>New route</button>}
      </div>
      <p className="muted">Which alerts go to which channel. An alert matches a route when it matches every filter the route sets.</p>
      {routing && (
        <RouteForm
          channels={channels.data?.items ?? []}
          onDone={() => {
            setRouting(false);
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
              <th scope="col">Throttle</th>
            </tr>
          </thead>
          <tbody>
            {(routes.data?.items ?? []).map((r) => (
              <tr key={r.id}>
                <td>{r.name}</td>
                <td>{name.get(r.channel_id) ?? r.channel_id}</td>
                <td>{r.severities.length ? r.severities.join(', ') : 'every'}</td>
                <td>{r.rule_types.length ? r.rule_types.join(', ') : 'every'}</td>
                <td>{r.throttle_s ? `${r.throttle_s} s` : 'none'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function ChannelForm({ channel, onDone }: { channel: Channel | null; onDone: () => void }) {
  const senders = useComponents('sender');
  const [name, setName] = useState(channel?.name ?? '');
  const [type, setType] = useState(channel?.type ?? '');
  const [config, setConfig] = useState<Config>((channel?.config as Config) ?? {});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const chosen = type || senders.data?.[0]?.type || '';
  const component = senders.data?.find((c) => c.type === chosen);
  const problemField = isProblem(error) && error.field === 'config' ? configProblemField(error.detail) : undefined;

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (channel) await put(`/api/v1/channels/${channel.id}/config`, config);
      else await post('/api/v1/channels', { name, type: chosen, config });
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
          <input id="channel-name" required disabled={Boolean(channel)} value={name} onChange={(e) => setName(e.target.value)} />
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
      {!problemField && <ProblemMessage error={error} />}
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

function RouteForm({ channels, onDone }: { channels: Channel[]; onDone: () => void }) {
  const sites = useSites();
  const [channelId, setChannelId] = useState(channels[0]?.id ?? '');
  const [name, setName] = useState('');
  const [severities, setSeverities] = useState<Severity[]>([]);
  const [siteId, setSiteId] = useState('');
  const [tag, setTag] = useState('');
  const [throttle, setThrottle] = useState(0);
  const [error, setError] = useState<unknown>(null);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      await post('/api/v1/routing-rules', {
        channel_id: channelId,
        name,
        severities,
        throttle_s: throttle,
        ...(siteId ? { site_id: siteId } : {}),
        ...(tag ? { tag } : {}),
      });
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form className="panel" onSubmit={save} aria-label="New route">
      <div className="form-grid">
        <div className="field">
          <label htmlFor="route-name">Name</label>
          <input id="route-name" value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="route-channel">Channel</label>
          <select id="route-channel" value={channelId} onChange={(e) => setChannelId(e.target.value)}>
            {channels.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </div>
        <fieldset className="field">
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
        </fieldset>
        <div className="field">
          <label htmlFor="route-site">Site</label>
          <select id="route-site" value={siteId} onChange={(e) => setSiteId(e.target.value)}>
            <option value="">any</option>
            {(sites.data?.items ?? []).map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="route-tag">Tag</label>
          <input id="route-tag" value={tag} onChange={(e) => setTag(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="route-throttle">Throttle (s)</label>
          <input id="route-throttle" type="number" min={0} max={604800} value={throttle} onChange={(e) => setThrottle(Number(e.target.value))} />
        </div>
      </div>
      <ProblemMessage error={error} />
      <div className="form-actions">
        <button className="primary" type="submit">
          Create route
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
