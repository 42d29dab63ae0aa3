// Maintenance windows: planned work during which alerts are still recorded (shown "in maintenance") but
// nothing is notified or escalated. A window is one-off or recurring (daily, weekly on given days, monthly)
// in a time zone, for the whole tenant, a site, listed devices or a tag. Members and admins create, edit,
// disable and delete them; everyone sees which is in progress now.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiProblem, del, get, post, put } from '../api/client';
import { useSites } from '../api/queries';
import type { components } from '../api/schema.gen';
import type { DeviceList } from '../api/types';
import { can, usePrincipal } from '../auth/session';
import { ConfirmButton } from '../components/ConfirmButton';
import { FieldProblem } from '../components/FieldProblem';
import { ProblemMessage } from '../components/Problem';
import { FormFooter, invalidAttrs, problemFor, useSubmit } from '../components/forms';
import { TimeZoneSelect } from '../components/TimeZoneSelect';
import { inZone, utcToZoned, zonedToUtc } from '../lib/time';

type MaintenanceWindow = components['schemas']['MaintenanceWindow'];
type MaintenanceWindowList = components['schemas']['MaintenanceWindowList'];
type Recurrence = MaintenanceWindow['recurrence'];
type ScopeType = MaintenanceWindow['scope']['type'];

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

export function Maintenance() {
  const principal = usePrincipal();
  const member = can(principal, 'change');
  const client = useQueryClient();
  // "In progress" changes with the clock: looked at again every 30 s.
  const windows = useQuery({
    queryKey: ['maintenance-windows'],
    queryFn: ({ signal }) => get<MaintenanceWindowList>('/api/v1/maintenance-windows', undefined, signal),
    refetchInterval: 30000,
  });
  const [editing, setEditing] = useState<MaintenanceWindow | 'new' | null>(null);
  const refresh = () => client.invalidateQueries({ queryKey: ['maintenance-windows'] });

  return (
    <section>
      <div className="row">
        <h1>Maintenance windows</h1>
        <span className="spacer" />
        {member && !editing && (
          <button className="primary" onClick={() => setEditing('new')}>
            New window
          </button>
        )}
      </div>
      <p className="muted">During a window, alerts of what it covers are recorded but nobody is notified or paged; one still open when it ends notifies then, one that closed meanwhile sends nothing.</p>
      {editing && (
        <WindowForm
          key={editing === 'new' ? 'new' : editing.id}
          window={editing === 'new' ? null : editing}
          onDone={() => {
            setEditing(null);
            refresh();
          }}
          onCancel={() => setEditing(null)}
        />
      )}
      <ProblemMessage error={windows.error} />
      <div className="panel">
        <table aria-label="Maintenance windows">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">When</th>
              <th scope="col">Covers</th>
              <th scope="col">State</th>
              {member && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {(windows.data?.items ?? []).map((w) => (
              <tr key={w.id}>
                <td>
                  {w.name}
                  {w.description && <div className="muted">{w.description}</div>}
                </td>
                <td>{whenText(w)}</td>
                <td>{scopeText(w.scope)}</td>
                <td>
                  {w.active ? (
                    <span className="badge status-STALE">in progress</span>
                  ) : w.enabled ? (
                    <span className="muted">scheduled</span>
                  ) : (
                    <span className="muted">disabled</span>
                  )}
                </td>
                {member && (
                  <td className="row">
                    <button onClick={() => setEditing(w)} aria-label={`Edit window ${w.name}`}>
                      Edit
                    </button>
                    <ConfirmButton
                      label={`Delete window ${w.name}`}
                      title={`Delete ${w.name}?`}
                      message="Alerts it covers notify again as usual; those it held while it was in progress stay as they are."
                      confirmLabel="Delete"
                      danger
                      onConfirm={async () => {
                        await del(`/api/v1/maintenance-windows/${w.id}`);
                        refresh();
                      }}
                    />
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
        {windows.data?.items.length === 0 && <p className="muted">No maintenance windows.</p>}
      </div>
    </section>
  );
}

function duration(minutes: number | undefined): string {
  const m = minutes ?? 0;
  if (m % 1440 === 0) return `${m / 1440} d`;
  if (m % 60 === 0) return `${m / 60} h`;
  return m > 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m} min`;
}

function whenText(w: MaintenanceWindow): string {
  if (w.recurrence === 'once') return `${inZone(w.starts_at ?? '', w.time_zone)} to ${inZone(w.ends_at ?? '', w.time_zone)} (${w.time_zone})`;
  const days = w.days ?? [];
  const which =
    w.recurrence === 'daily'
      ? 'every day'
      : w.recurrence === 'weekly'
        ? `every ${days.map((d) => WEEKDAYS[d - 1]).join(', ')}`
        : `on day ${days.join(', ')} of each month`;
  const range = `${w.from ? `, from ${w.from}` : ''}${w.until ? ` until ${w.until}` : ''}`;
  return `${which} at ${w.start_time} for ${duration(w.duration_minutes)} (${w.time_zone})${range}`;
}

function scopeText(s: MaintenanceWindow['scope']): string {
  switch (s.type) {
    case 'tenant':
      return 'every device';
    case 'site':
      return `site ${s.site_name ?? s.site_id}`;
    case 'devices':
      return `${s.device_ids?.length ?? 0} device${s.device_ids?.length === 1 ? '' : 's'}`;
    case 'tag':
      return `devices tagged ${s.tag}`;
  }
}

// The names of the devices a window lists, for its edit form (the API keeps ids).
function useDeviceNames(ids: number[]) {
  return useQuery({
    queryKey: ['device-names', ids],
    enabled: ids.length > 0,
    queryFn: async ({ signal }) => Promise.all(ids.map((id) => get<{ name: string }>(`/api/v1/devices/${id}`, undefined, signal).then((d) => d.name))),
  });
}

// The fields that show their problem under them; any other problem shows above the buttons.
const FIELDS = ['name', 'time_zone', 'starts_at', 'ends_at', 'start_time', 'duration_minutes', 'days', 'from', 'until', 'scope', 'scope.type', 'scope.site_id', 'scope.device_ids', 'scope.tag'];

// A new window, or one to edit (prefilled; saved whole, as the API's PUT takes it). One-off times are read
// in the window's time zone, like the recurring ones.
function WindowForm({ window: w, onDone, onCancel }: { window: MaintenanceWindow | null; onDone: () => void; onCancel: () => void }) {
  const sites = useSites();
  const today = new Date().toISOString().slice(0, 10);
  const [name, setName] = useState(w?.name ?? '');
  const [description, setDescription] = useState(w?.description ?? '');
  const [zone, setZone] = useState(w?.time_zone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC');
  const [recurrence, setRecurrence] = useState<Recurrence>(w?.recurrence ?? 'once');
  const [startsAt, setStartsAt] = useState(w?.starts_at ? utcToZoned(w.starts_at, w.time_zone) : '');
  const [endsAt, setEndsAt] = useState(w?.ends_at ? utcToZoned(w.ends_at, w.time_zone) : '');
  const [startTime, setStartTime] = useState(w?.start_time || '02:00');
  const [minutes, setMinutes] = useState(String(w?.duration_minutes || 60));
  const [weekdays, setWeekdays] = useState<number[]>(w?.recurrence === 'weekly' ? (w.days ?? []) : [6, 7]);
  const [monthDays, setMonthDays] = useState(w?.recurrence === 'monthly' ? (w.days ?? []).join(', ') : '1');
  const [from, setFrom] = useState(w?.from ?? today);
  const [until, setUntil] = useState(w?.until ?? '');
  const [enabled, setEnabled] = useState(w?.enabled ?? true);
  const [scopeType, setScopeType] = useState<ScopeType>(w?.scope.type ?? 'tenant');
  const [siteId, setSiteId] = useState(w?.scope.site_id ?? '');
  const [tag, setTag] = useState(w?.scope.tag ?? '');
  const listed = useDeviceNames(w?.scope.type === 'devices' ? (w.scope.device_ids ?? []) : []);
  const [deviceNames, setDeviceNames] = useState<string | null>(null);
  const title = w ? `Edit window ${w.name}` : 'New maintenance window';
  const names = deviceNames ?? (listed.data ?? []).join(', ');

  // Device names to ids, each by the devices list's search; a name nobody has is the form's own problem.
  const deviceIds = async (): Promise<number[]> => {
    const wanted = names.split(',').map((n) => n.trim()).filter(Boolean);
    const ids: number[] = [];
    for (const n of wanted) {
      const found = await get<DeviceList>('/api/v1/devices', { q: n, limit: 50 });
      const device = found.items.find((d) => d.name === n);
      if (!device) throw new ApiProblem(422, 'Unprocessable Content', `no device is named ${n}`, 'scope.device_ids');
      ids.push(device.id);
    }
    return ids;
  };

  const { error, busy, submit } = useSubmit(async () => {
      const scope =
        scopeType === 'site' ? { type: scopeType, site_id: siteId } : scopeType === 'tag' ? { type: scopeType, tag } : scopeType === 'devices' ? { type: scopeType, device_ids: await deviceIds() } : { type: scopeType };
      const when =
        recurrence === 'once'
          ? { starts_at: startsAt ? zonedToUtc(startsAt, zone) : '', ends_at: endsAt ? zonedToUtc(endsAt, zone) : '' }
          : {
              start_time: startTime,
              duration_minutes: Number(minutes),
              from,
              until: until || null,
              ...(recurrence === 'weekly' ? { days: [...weekdays].sort() } : {}),
              ...(recurrence === 'monthly' ? { days: monthDays.split(',').map((d) => d.trim()).filter(Boolean).map(Number) } : {}),
            };
      const body = { name, description, time_zone: zone, recurrence, enabled, scope, ...when };
      if (w) await put(`/api/v1/maintenance-windows/${w.id}`, body);
      else await post('/api/v1/maintenance-windows', body);
      onDone();
  });
  // A device id's problem (scope.device_ids[2]) belongs to the names field.
  const place = (f: string) => (f.startsWith('scope.device_ids') ? 'scope.device_ids' : f);
  const problem = (field: string) => problemFor(error, field, place);
  const invalid = (field: string, id: string) => invalidAttrs(problem(field), id);
  const placed = FIELDS.some((f) => problem(f));

  return (
    <form className="panel" onSubmit={submit} aria-label={title}>
      <h3>{title}</h3>
      <div className="form-grid">
        <div className="field">
          <label htmlFor="mw-name">Name</label>
          <input id="mw-name" required maxLength={200} value={name} {...invalid('name', 'mw-name')} onChange={(e) => setName(e.target.value)} />
          <FieldProblem id="mw-name-problem" text={problem('name')} />
        </div>
        <div className="field">
          <label htmlFor="mw-description">Description</label>
          <input id="mw-description" maxLength={2000} value={description} onChange={(e) => setDescription(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="mw-zone">Time zone</label>
          <TimeZoneSelect id="mw-zone" value={zone} onChange={setZone} invalid={Boolean(problem('time_zone'))} describedBy={problem('time_zone') ? 'mw-zone-problem' : undefined} />
          <FieldProblem id="mw-zone-problem" text={problem('time_zone')} />
        </div>
        <div className="field">
          <label htmlFor="mw-recurrence">Repeats</label>
          <select id="mw-recurrence" value={recurrence} onChange={(e) => setRecurrence(e.target.value as Recurrence)}>
            <option value="once">once</option>
            <option value="daily">daily</option>
            <option value="weekly">weekly</option>
            <option value="monthly">monthly</option>
          </select>
        </div>
        {recurrence === 'once' ? (
          <>
            <div className="field">
              <label htmlFor="mw-starts">Starts (in its time zone)</label>
              <input id="mw-starts" type="datetime-local" required value={startsAt} {...invalid('starts_at', 'mw-starts')} onChange={(e) => setStartsAt(e.target.value)} />
              <FieldProblem id="mw-starts-problem" text={problem('starts_at')} />
            </div>
            <div className="field">
              <label htmlFor="mw-ends">Ends (in its time zone)</label>
              <input id="mw-ends" type="datetime-local" required value={endsAt} {...invalid('ends_at', 'mw-ends')} onChange={(e) => setEndsAt(e.target.value)} />
              <FieldProblem id="mw-ends-problem" text={problem('ends_at')} />
            </div>
          </>
        ) : (
          <>
            <div className="field">
              <label htmlFor="mw-start-time">Starts at</label>
              <input id="mw-start-time" type="time" required value={startTime} {...invalid('start_time', 'mw-start-time')} onChange={(e) => setStartTime(e.target.value)} />
              <FieldProblem id="mw-start-time-problem" text={problem('start_time')} />
            </div>
            <div className="field">
              <label htmlFor="mw-minutes">Lasts (minutes)</label>
              <input id="mw-minutes" type="number" required min={1} value={minutes} {...invalid('duration_minutes', 'mw-minutes')} onChange={(e) => setMinutes(e.target.value)} />
              <FieldProblem id="mw-minutes-problem" text={problem('duration_minutes')} />
            </div>
            {recurrence === 'weekly' && (
              <fieldset className="field" aria-describedby={problem('days') ? 'mw-days-problem' : undefined}>
                <legend>On</legend>
                {WEEKDAYS.map((label, i) => (
                  <label key={label} className="row">
                    <input type="checkbox" checked={weekdays.includes(i + 1)} onChange={(e) => setWeekdays(e.target.checked ? [...weekdays, i + 1] : weekdays.filter((d) => d !== i + 1))} />
                    {label}
                  </label>
                ))}
                <FieldProblem id="mw-days-problem" text={problem('days')} />
              </fieldset>
            )}
            {recurrence === 'monthly' && (
              <div className="field">
                <label htmlFor="mw-month-days">Days of the month (e.g. 1, 15)</label>
                <input id="mw-month-days" required value={monthDays} {...invalid('days', 'mw-month-days')} onChange={(e) => setMonthDays(e.target.value)} />
                <FieldProblem id="mw-month-days-problem" text={problem('days')} />
              </div>
            )}
            <div className="field">
              <label htmlFor="mw-from">From</label>
              <input id="mw-from" type="date" required value={from} {...invalid('from', 'mw-from')} onChange={(e) => setFrom(e.target.value)} />
              <FieldProblem id="mw-from-problem" text={problem('from')} />
            </div>
            <div className="field">
              <label htmlFor="mw-until">Until (empty: no end)</label>
              <input id="mw-until" type="date" value={until} {...invalid('until', 'mw-until')} onChange={(e) => setUntil(e.target.value)} />
              <FieldProblem id="mw-until-problem" text={problem('until')} />
            </div>
          </>
        )}
        <div className="field">
          <label htmlFor="mw-scope">Covers</label>
          <select id="mw-scope" value={scopeType} {...invalid('scope.type', 'mw-scope')} onChange={(e) => setScopeType(e.target.value as ScopeType)}>
            <option value="tenant">every device</option>
            <option value="site">a site</option>
            <option value="devices">listed devices</option>
            <option value="tag">devices with a tag</option>
          </select>
          <FieldProblem id="mw-scope-problem" text={problem('scope.type') ?? problem('scope')} />
        </div>
        {scopeType === 'site' && (
          <div className="field">
            <label htmlFor="mw-site">Site</label>
            <select id="mw-site" required value={siteId} {...invalid('scope.site_id', 'mw-site')} onChange={(e) => setSiteId(e.target.value)}>
              <option value="">choose a site</option>
              {(sites.data?.items ?? []).map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
            <FieldProblem id="mw-site-problem" text={problem('scope.site_id')} />
          </div>
        )}
        {scopeType === 'devices' && (
          <div className="field">
            <label htmlFor="mw-devices">Device names (comma-separated)</label>
            <input id="mw-devices" required value={names} {...invalid('scope.device_ids', 'mw-devices')} onChange={(e) => setDeviceNames(e.target.value)} />
            <FieldProblem id="mw-devices-problem" text={problem('scope.device_ids')} />
          </div>
        )}
        {scopeType === 'tag' && (
          <div className="field">
            <label htmlFor="mw-tag">Tag</label>
            <input id="mw-tag" required maxLength={64} value={tag} {...invalid('scope.tag', 'mw-tag')} onChange={(e) => setTag(e.target.value)} />
            <FieldProblem id="mw-tag-problem" text={problem('scope.tag')} />
          </div>
        )}
        <label className="row">
          <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
          Enabled
        </label>
      </div>
      <FormFooter error={error} placed={placed} busy={busy} submitLabel={w ? 'Save window' : 'Create window'} onCancel={onCancel} />
    </form>
  );
}
