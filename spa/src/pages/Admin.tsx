// The tenant's administration: sites (with their time zone), users (roles, disable), API keys (shown
// once), the metric catalog (unit, description, last value) and the audit log. Each is a route of its own;
// the navigation offers the ones the role may use.
import { useInfiniteQuery, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { get, patch, post, request } from '../api/client';
import { useMetricCatalog, useSites } from '../api/queries';
import type { ApiKeyList, AuditList, Metric, NewApiKey, Site, UserList } from '../api/types';
import { can, usePrincipal } from '../auth/session';
import { ConfirmButton } from '../components/ConfirmButton';
import { ProblemMessage, fieldProblem } from '../components/Problem';
import { SecretOnce } from '../components/SecretOnce';
import { TimeAgo } from '../components/TimeAgo';
import { TimeZoneSelect } from '../components/TimeZoneSelect';

export function Sites() {
  const principal = usePrincipal();
  const admin = can(principal, 'administer');
  const sites = useSites();
  const client = useQueryClient();
  const [name, setName] = useState('');
  const [zone, setZone] = useState('UTC');
  const [error, setError] = useState<unknown>(null);
  const refresh = () => client.invalidateQueries({ queryKey: ['sites'] });

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      await post('/api/v1/sites', { name, time_zone: zone });
      setName('');
      refresh();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section>
      <h1>Sites</h1>
      {admin && (
        <form className="toolbar" onSubmit={create} aria-label="New site">
          <div>
            <label htmlFor="site-name">Name</label>
            <input id="site-name" required value={name} aria-invalid={Boolean(fieldProblem(error, 'name'))} onChange={(e) => setName(e.target.value)} />
          </div>
          <div>
            <label htmlFor="site-zone">Time zone</label>
            <TimeZoneSelect id="site-zone" value={zone} onChange={setZone} />
          </div>
          <button className="primary" type="submit">
            Add site
          </button>
        </form>
      )}
      <ProblemMessage error={error ?? sites.error} />
      <div className="panel">
        <table aria-label="Sites">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Time zone</th>
              <th scope="col">Devices</th>
              {admin && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {(sites.data?.items ?? []).map((s) => (
              <SiteRow key={s.id} site={s} admin={admin} onChanged={refresh} />
            ))}
          </tbody>
        </table>
        {sites.data?.items.length === 0 && <p className="muted">No sites yet.</p>}
      </div>
    </section>
  );
}

function SiteRow({ site, admin, onChanged }: { site: Site; admin: boolean; onChanged: () => void }) {
  const [error, setError] = useState<unknown>(null);
  return (
    <tr>
      <td>{site.name}</td>
      <td>
        {admin ? (
          <>
            <label htmlFor={`zone-${site.id}`} className="visually-hidden">
              Time zone of {site.name}
            </label>
            <TimeZoneSelect
              id={`zone-${site.id}`}
              value={site.time_zone}
              onChange={async (tz) => {
                setError(null);
                try {
                  await patch(`/api/v1/sites/${site.id}`, { time_zone: tz });
                  onChanged();
                } catch (e) {
                  setError(e);
                }
              }}
            />
          </>
        ) : (
          site.time_zone
        )}
        <ProblemMessage error={error} />
      </td>
      <td>{site.devices}</td>
      {admin && (
        <td>
          <ConfirmButton
            label={`Delete ${site.name}`}
            title={`Delete the site ${site.name}?`}
            message="Refused while a device, rule or route names it."
            confirmLabel="Delete"
            danger
            onConfirm={async () => {
              await request('DELETE', `/api/v1/sites/${site.id}`);
              onChanged();
            }}
          />
        </td>
      )}
    </tr>
  );
}

export function Users() {
  const users = useQuery({ queryKey: ['users'], queryFn: ({ signal }) => get<UserList>('/api/v1/users', { limit: 200 }, signal) });
  const client = useQueryClient();
  const principal = usePrincipal();
  const [form, setForm] = useState({ email: '', display_name: '', role: 'customer', password: '' });
  const [error, setError] = useState<unknown>(null);
  const [rowError, setRowError] = useState<unknown>(null);
  const refresh = () => client.invalidateQueries({ queryKey: ['users'] });
  const create = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      await post('/api/v1/users', form);
      setForm({ email: '', display_name: '', role: 'customer', password: '' });
      refresh();
    } catch (err) {
      setError(err);
    }
  };
  const change = async (id: string, body: object) => {
    setRowError(null);
    try {
      await patch(`/api/v1/users/${id}`, body);
      refresh();
    } catch (e) {
      setRowError(e);
    }
  };
  return (
    <section>
      <h1>Users</h1>
      <form className="toolbar" onSubmit={create} aria-label="New user">
        <div>
          <label htmlFor="user-email">E-mail</label>
          <input id="user-email" type="email" required value={form.email} aria-invalid={Boolean(fieldProblem(error, 'email'))} onChange={(e) => setForm({ ...form, email: e.target.value })} />
        </div>
        <div>
          <label htmlFor="user-name">Name</label>
          <input id="user-name" value={form.display_name} onChange={(e) => setForm({ ...form, display_name: e.target.value })} />
        </div>
        <div>
          <label htmlFor="user-role">Role</label>
          <select id="user-role" value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value })}>
            <option value="customer">customer</option>
            <option value="tenant-admin">tenant-admin</option>
          </select>
        </div>
        <div>
          <label htmlFor="user-password">Password (12 or more)</label>
          <input
            id="user-password"
            type="password"
            autoComplete="new-password"
            required
            aria-invalid={Boolean(fieldProblem(error, 'password'))}
            value={form.password}
            onChange={(e) => setForm({ ...form, password: e.target.value })}
          />
        </div>
        <button className="primary" type="submit">
          Add user
        </button>
      </form>
      <ProblemMessage error={error ?? users.error ?? rowError} />
      <div className="panel">
        <table aria-label="Users">
          <thead>
            <tr>
              <th scope="col">E-mail</th>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {(users.data?.items ?? []).map((u) => {
              const self = u.id === principal.id;
              return (
                <tr key={u.id}>
                  <td>{u.email}</td>
                  <td>{u.display_name}</td>
                  <td>
                    <label htmlFor={`role-${u.id}`} className="visually-hidden">
                      Role of {u.email}
                    </label>
                    <select id={`role-${u.id}`} value={u.role} disabled={self} onChange={(e) => change(u.id, { role: e.target.value })}>
                      <option value="customer">customer</option>
                      <option value="tenant-admin">tenant-admin</option>
                    </select>
                  </td>
                  <td>
                    {self ? (
                      'you'
                    ) : (
                      <button onClick={() => change(u.id, { disabled: !u.disabled })} aria-label={`${u.disabled ? 'Enable' : 'Disable'} ${u.email}`}>
                        {u.disabled ? 'Enable' : 'Disable'}
                      </button>
                    )}
                    {u.disabled && <span className="muted"> disabled</span>}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export function ApiKeys() {
  const keys = useQuery({ queryKey: ['api-keys'], queryFn: ({ signal }) => get<ApiKeyList>('/api/v1/api-keys', undefined, signal) });
  const client = useQueryClient();
  const [name, setName] = useState('');
  const [role, setRole] = useState('customer');
  const [created, setCreated] = useState<NewApiKey | null>(null);
  const [error, setError] = useState<unknown>(null);
  const refresh = () => client.invalidateQueries({ queryKey: ['api-keys'] });
  const create = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      setCreated(await post<NewApiKey>('/api/v1/api-keys', { name, role }));
      setName('');
      refresh();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section>
      <h1>API keys</h1>
      <form className="toolbar" onSubmit={create} aria-label="New API key">
        <div>
          <label htmlFor="key-name">Name</label>
          <input id="key-name" required value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div>
          <label htmlFor="key-role">Role</label>
          <select id="key-role" value={role} onChange={(e) => setRole(e.target.value)}>
            <option value="customer">customer</option>
            <option value="tenant-admin">tenant-admin</option>
          </select>
        </div>
        <button className="primary" type="submit">
          Create key
        </button>
      </form>
      {created && <SecretOnce label={`The key ${created.name}`} value={created.token} />}
      <ProblemMessage error={error ?? keys.error} />
      <div className="panel">
        <table aria-label="API keys">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">Starts with</th>
              <th scope="col">Last used</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {(keys.data?.items ?? []).map((k) => (
              <tr key={k.id}>
                <td>{k.name}</td>
                <td>{k.role}</td>
                <td className="mono">{k.prefix}…</td>
                <td>
                  <TimeAgo at={k.last_used_at} />
                </td>
                <td>
                  {k.revoked_at ? (
                    <span className="muted">revoked</span>
                  ) : (
                    <ConfirmButton
                      label={`Revoke ${k.name}`}
                      title={`Revoke the key ${k.name}?`}
                      message="Whatever uses it is refused from now on."
                      confirmLabel="Revoke"
                      danger
                      onConfirm={async () => {
                        await request('DELETE', `/api/v1/api-keys/${k.id}`);
                        refresh();
                      }}
                    />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export function Metrics() {
  const principal = usePrincipal();
  const metrics = useMetricCatalog();
  return (
    <section>
      <h1>Metrics</h1>
      <p className="muted">Every metric the tenant's devices have reported, with the latest value. Unit and description are yours to set.</p>
      <ProblemMessage error={metrics.error} />
      <div className="panel">
        <table aria-label="Metrics">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Unit</th>
              <th scope="col">Description</th>
              <th scope="col">Last value</th>
              <th scope="col">At</th>
            </tr>
          </thead>
          <tbody>
            {(metrics.data?.items ?? []).map((m) => (
              <MetricRow key={m.id} metric={m} editable={can(principal, 'change')} />
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function MetricRow({ metric: m, editable }: { metric: Metric; editable: boolean }) {
  const client = useQueryClient();
  const [unit, setUnit] = useState(m.unit);
  const [description, setDescription] = useState(m.description);
  const [error, setError] = useState<unknown>(null);
  const save = async () => {
    if (unit === m.unit && description === m.description) return;
    setError(null);
    try {
      await patch(`/api/v1/metrics/${m.id}`, { unit, description });
      client.invalidateQueries({ queryKey: ['metrics'] });
    } catch (e) {
      setError(e); // the typed text stays
    }
  };
  return (
    <tr>
      <td className="mono">{m.name}</td>
      <td>
        {editable ? (
          <input aria-label={`Unit of ${m.name}`} value={unit} size={6} onChange={(e) => setUnit(e.target.value)} onBlur={save} />
        ) : (
          m.unit
        )}
      </td>
      <td>
        {editable ? (
          <input aria-label={`Description of ${m.name}`} value={description} onChange={(e) => setDescription(e.target.value)} onBlur={save} />
        ) : (
          m.description
        )}
        <ProblemMessage error={error} />
      </td>
      <td>{m.last_value ?? '–'}</td>
      <td>
        <TimeAgo at={m.last_at} />
      </td>
    </tr>
  );
}

export function Audit() {
  const audit = useInfiniteQuery({
    queryKey: ['audit'],
    queryFn: ({ pageParam, signal }) => get<AuditList>('/api/v1/audit-log', { limit: 50, cursor: pageParam }, signal),
    initialPageParam: '' as string,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const [action, setAction] = useState('');
  const rows = (audit.data?.pages.flatMap((p) => p.items) ?? []).filter((e) => !action || e.action.startsWith(action));
  return (
    <section>
      <h1>Audit log</h1>
      <div className="toolbar">
        <div>
          <label htmlFor="audit-action">Action starts with</label>
          <input id="audit-action" value={action} placeholder="device., session., alert." onChange={(e) => setAction(e.target.value)} />
        </div>
      </div>
      <ProblemMessage error={audit.error} />
      <div className="panel">
        <table aria-label="Audit log">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">Result</th>
              <th scope="col">From</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((e) => (
              <tr key={e.id}>
                <td>
                  <TimeAgo at={e.at} />
                </td>
                <td>{e.actor}</td>
                <td className="mono">{e.action}</td>
                <td className="mono">{e.target}</td>
                <td>{e.result}</td>
                <td className="mono">{e.address}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {audit.hasNextPage && (
          <button onClick={() => audit.fetchNextPage()} disabled={audit.isFetchingNextPage}>
            Older entries
          </button>
        )}
      </div>
    </section>
  );
}
