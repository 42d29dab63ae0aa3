// One device: overview (status, thresholds, status history), telemetry charts, its alerts, and its
// credentials (rotate: the new token shown once; revoke), decommission behind a confirmation.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { get, patch, post } from '../api/client';
import { useAlerts, useDevice, useSites } from '../api/queries';
import type { Device, DeviceList, NewDevice, StatusChangeList } from '../api/types';
import { can, usePrincipal } from '../auth/session';
import { SeverityBadge, StatusBadge } from '../components/Badges';
import { ConfirmButton } from '../components/ConfirmButton';
import { ProblemMessage, fieldProblem } from '../components/Problem';
import { SecretOnce } from '../components/SecretOnce';
import { TimeAgo } from '../components/TimeAgo';

// uPlot loads with the telemetry tab, not with the console.
const DeviceTelemetry = lazy(() => import('./DeviceTelemetry'));

const TABS = ['overview', 'telemetry', 'alerts', 'credentials'] as const;
type Tab = (typeof TABS)[number];

export function DeviceDetail({ id, onClose }: { id: number; onClose: () => void }) {
  const device = useDevice(id);
  const [params, setParams] = useSearchParams();
  const tab: Tab = (TABS as readonly string[]).includes(params.get('tab') ?? '') ? (params.get('tab') as Tab) : 'overview';
  const selectTab = (t: Tab) => {
    const next = new URLSearchParams(params);
    if (t === 'overview') next.delete('tab');
    else next.set('tab', t);
    setParams(next, { replace: true });
  };

  if (device.error) return <ProblemMessage error={device.error} />;
  if (!device.data) return <p className="muted">Loading…</p>;
  const d = device.data;
  return (
    <article className="panel" aria-labelledby="device-title">
      <div className="row">
        <h1 id="device-title">{d.name}</h1>
        <StatusBadge status={d.status} />
        <span className="spacer" />
        <button onClick={onClose} aria-label="Close the device">
          Close
        </button>
      </div>
      {d.decommissioned_at && (
        <p className="problem">
          Decommissioned <TimeAgo at={d.decommissioned_at} />: it can no longer send readings.
        </p>
      )}
      <div className="tabs" role="tablist" aria-label="Device">
        {TABS.map((t) => (
          <button key={t} role="tab" id={`tab-${t}`} aria-selected={tab === t} aria-controls={`panel-${t}`} onClick={() => selectTab(t)}>
            {t[0]!.toUpperCase() + t.slice(1)}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === 'overview' && <OverviewTab device={d} />}
        {tab === 'telemetry' && (
          <Suspense fallback={<p className="muted">Loading charts…</p>}>
            <DeviceTelemetry deviceId={d.id} />
          </Suspense>
        )}
        {tab === 'alerts' && <AlertsTab deviceId={d.id} />}
        {tab === 'credentials' && <CredentialsTab device={d} />}
      </div>
    </article>
  );
}

function OverviewTab({ device: d }: { device: Device }) {
  const sites = useSites();
  const history = useQuery({
    queryKey: ['device-status-history', d.id],
    queryFn: ({ signal }) => get<StatusChangeList>(`/api/v1/devices/${d.id}/status-history`, { limit: 20 }, signal),
  });
  const site = sites.data?.items.find((s) => s.id === d.site_id);
  const parent = useDevice(d.parent_id);
  return (
    <>
      <dl className="facts">
        <dt>Last seen</dt>
        <dd>
          <TimeAgo at={d.last_seen_at} />
        </dd>
        <dt>Site</dt>
        <dd>{site ? `${site.name} (${site.time_zone})` : <span className="muted">none</span>}</dd>
        <dt>Depends on</dt>
        <dd>
          {d.parent_id === null ? (
            <span className="muted">nothing (no parent device)</span>
          ) : (
            <>
              <Link to={`/devices/${d.parent_id}`}>{parent.data?.name ?? `device ${d.parent_id}`}</Link>
              {parent.data && (
                <>
                  {' '}
                  <StatusBadge status={parent.data.status} />
                </>
              )}
              <span className="muted"> — its alerts are suppressed while this parent is offline or silent</span>
            </>
          )}
          <ParentEditor device={d} parentName={parent.data?.name ?? ''} />
        </dd>
        <dt>Tags</dt>
        <dd>{d.tags.length ? d.tags.join(', ') : <span className="muted">none</span>}</dd>
        <dt>Stale after</dt>
        <dd>{d.stale_after_s ? `${d.stale_after_s} s` : <span className="muted">the tenant's default</span>}</dd>
        <dt>Offline after</dt>
        <dd>{d.offline_after_s ? `${d.offline_after_s} s` : <span className="muted">the tenant's default</span>}</dd>
        <dt>Created</dt>
        <dd>
          <TimeAgo at={d.created_at} />
        </dd>
      </dl>
      <h2>Status history</h2>
      <ProblemMessage error={history.error} />
      {history.data && history.data.items.length === 0 && <p className="muted">No status change yet.</p>}
      {history.data && history.data.items.length > 0 && (
        <table aria-label="Status history">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Change</th>
              <th scope="col">Why</th>
            </tr>
          </thead>
          <tbody>
            {history.data.items.map((c, i) => (
              <tr key={`${c.at}-${i}`}>
                <td>
                  <TimeAgo at={c.at} />
                </td>
                <td>
                  <StatusBadge status={c.from} /> → <StatusBadge status={c.to} />
                </td>
                <td>{c.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function AlertsTab({ deviceId }: { deviceId: number }) {
  const alerts = useAlerts({ device_id: deviceId, limit: 50 });
  if (alerts.error) return <ProblemMessage error={alerts.error} />;
  if (!alerts.data) return <p className="muted">Loading…</p>;
  if (alerts.data.items.length === 0) return <p className="muted">This device has no alerts.</p>;
  return (
    <table aria-label="The device's alerts">
      <thead>
        <tr>
          <th scope="col">Severity</th>
          <th scope="col">Alert</th>
          <th scope="col">Status</th>
          <th scope="col">Opened</th>
        </tr>
      </thead>
      <tbody>
        {alerts.data.items.map((a) => (
          <tr key={a.id}>
            <td>
              <SeverityBadge severity={a.severity} />
            </td>
            <td>
              <Link to={`/alerts?open=${a.id}`}>{a.summary}</Link>
            </td>
            <td>{a.status}</td>
            <td>
              <TimeAgo at={a.opened_at} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

// A tenant-admin sets the device's parent by the parent's name (or clears it); the server refuses the device
// itself, a device below it (a cycle) and chains deeper than 10, and its problem shows beside the field.
function ParentEditor({ device: d, parentName }: { device: Device; parentName: string }) {
  const principal = usePrincipal();
  const client = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [notFound, setNotFound] = useState('');
  const [busy, setBusy] = useState(false);
  if (!can(principal, 'administer') || d.decommissioned_at) return null;
  const save = async (parentId: number | null) => {
    setBusy(true);
    setError(null);
    try {
      await patch(`/api/v1/devices/${d.id}`, { parent_id: parentId });
      client.invalidateQueries({ queryKey: ['device', d.id] });
      client.invalidateQueries({ queryKey: ['devices'] });
      setEditing(false);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setNotFound('');
    setError(null);
    let match: Device | undefined;
    try {
      const found = await get<DeviceList>('/api/v1/devices', { q: name.trim(), limit: 50 });
      match = found.items.find((x) => x.name === name.trim());
    } catch (err) {
      setError(err);
      return;
    }
    if (!match) {
      setNotFound(`no device named ${name.trim()}`);
      return;
    }
    await save(match.id);
  };
  if (!editing)
    return (
      <div className="row">
        <button
          onClick={() => {
            setName(parentName);
            setEditing(true);
          }}
        >
          {d.parent_id === null ? 'Set parent' : 'Change parent'}
        </button>
        {d.parent_id !== null && (
          <button disabled={busy} onClick={() => save(null)}>
            Remove parent
          </button>
        )}
      </div>
    );
  const problem = notFound || fieldProblem(error, 'parent_id');
  return (
    <form className="row" onSubmit={submit} aria-label="Parent device">
      <label htmlFor="parent-name">Parent device name</label>
      <input
        id="parent-name"
        required
        maxLength={200}
        value={name}
        aria-invalid={Boolean(problem)}
        aria-describedby={problem ? 'parent-name-problem' : undefined}
        onChange={(e) => setName(e.target.value)}
      />
      <button className="primary" type="submit" disabled={busy}>
        Save parent
      </button>
      <button type="button" onClick={() => setEditing(false)}>
        Cancel
      </button>
      {problem && (
        <span id="parent-name-problem" className="problem" role="alert">
          {problem}
        </span>
      )}
      {error !== null && !fieldProblem(error, 'parent_id') && <ProblemMessage error={error} />}
    </form>
  );
}

function CredentialsTab({ device: d }: { device: Device }) {
  const principal = usePrincipal();
  const client = useQueryClient();
  const [token, setToken] = useState<NewDevice | null>(null);
  const refresh = () => {
    client.invalidateQueries({ queryKey: ['device', d.id] });
    client.invalidateQueries({ queryKey: ['devices'] });
  };
  const rotate = useMutation({
    mutationFn: () => post<NewDevice>(`/api/v1/devices/${d.id}/rotate-token`),
    onSuccess: (n) => {
      setToken(n);
      refresh();
    },
  });
  if (!can(principal, 'administer'))
    return <p className="muted">Only a tenant-admin manages a device's credentials.</p>;
  if (d.decommissioned_at) return <p className="muted">A decommissioned device has no credentials.</p>;
  return (
    <>
      <p>
        The device signs in with a token: over HTTP as <code className="mono">Authorization: Bearer …</code>, over MQTT as
        the password of its MQTT user.
      </p>
      {token && (
        <>
          <SecretOnce label="The new token" value={token.token} />
          <p className="muted">
            MQTT user <code className="mono">{token.mqtt_username}</code>; the old token no longer works.
          </p>
        </>
      )}
      <ProblemMessage error={rotate.error} />
      <div className="row">
        <button className="primary" onClick={() => rotate.mutate()} disabled={rotate.isPending}>
          Rotate token
        </button>
        <ConfirmButton
          label="Revoke token"
          title={`Revoke ${d.name}'s token?`}
          message="The device can no longer send readings until it gets a new token (Rotate token)."
          confirmLabel="Revoke"
          danger
          onConfirm={async () => {
            await post(`/api/v1/devices/${d.id}/revoke`);
            setToken(null);
            refresh();
          }}
        />
        <ConfirmButton
          label="Decommission"
          title={`Decommission ${d.name}?`}
          message="Its credentials are revoked for good and it leaves the fleet's counts; its history is kept."
          confirmLabel="Decommission"
          danger
          onConfirm={async () => {
            await post(`/api/v1/devices/${d.id}/decommission`);
            refresh();
          }}
        />
      </div>
    </>
  );
}
