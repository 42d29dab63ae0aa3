// On-call schedules: who is on call now and next, a 14-day timeline of shifts in the schedule's time zone,
// overrides (a person for a time range, winning over the rotation), and the calendar feed a calendar app
// subscribes to. A tenant-admin creates and edits schedules (layers rotating an ordered list of people,
// daily or weekly, handing off at a local time; a later layer wins where both have someone) and overrides.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { del, get, post, put } from '../api/client';
import type { components } from '../api/schema.gen';
import type { UserList } from '../api/types';
import { can, usePrincipal } from '../auth/session';
import { ConfirmButton } from '../components/ConfirmButton';
import { FieldProblem } from '../components/FieldProblem';
import { ProblemMessage } from '../components/Problem';
import { FormFooter, invalidAttrs, problemFor, useSubmit } from '../components/forms';
import { TimeZoneSelect } from '../components/TimeZoneSelect';
import { inZone, utcToZoned, zonedToUtc } from '../lib/time';
import styles from './OnCall.module.css';

type S = components['schemas'];
type Schedule = S['Schedule'];
type ScheduleList = S['ScheduleList'];
type Layer = S['ScheduleLayer'];
type Shift = S['Shift'];
type Timeline = S['Timeline'];
type OnCallNow = S['OnCall'];
type OverrideList = S['OverrideList'];
type CalendarUrl = S['CalendarUrl'];

const DAY_MS = 86400000;

// A person's colour on the timeline, the same wherever they appear.
function colourOf(id: string): string {
  let h = 0;
  for (const c of id) h = (h * 31 + c.charCodeAt(0)) % 360;
  return `hsl(${h} 60% 28%)`; // dark enough for white text at any hue (WCAG AA)
}

function who(shift: Shift | null | undefined): string {
  return shift ? shift.user.name || shift.user.email : 'nobody';
}

function sourceText(shift: Shift): string {
  return shift.source.type === 'override' ? 'override' : `layer ${shift.source.layer}${shift.source.name ? ` (${shift.source.name})` : ''}`;
}

export function OnCall() {
  const principal = usePrincipal();
  const admin = can(principal, 'administer');
  const client = useQueryClient();
  const schedules = useQuery({ queryKey: ['schedules'], queryFn: ({ signal }) => get<ScheduleList>('/api/v1/schedules', undefined, signal) });
  const [editing, setEditing] = useState<Schedule | 'new' | null>(null);
  const [shown, setShown] = useState<string | null>(null);
  const refresh = () => client.invalidateQueries({ queryKey: ['schedules'] });
  const items = schedules.data?.items ?? [];
  const selected = items.find((s) => s.id === shown) ?? items[0];

  return (
    <section>
      <div className="row">
        <h1>On call</h1>
        <span className="spacer" />
        {admin && !editing && (
          <button className="primary" onClick={() => setEditing('new')}>
            New schedule
          </button>
        )}
      </div>
      {editing && (
        <ScheduleForm
          key={editing === 'new' ? 'new' : editing.id}
          schedule={editing === 'new' ? null : editing}
          onDone={(id) => {
            setEditing(null);
            setShown(id);
            refresh();
            client.invalidateQueries({ queryKey: ['schedule'] });
          }}
          onCancel={() => setEditing(null)}
        />
      )}
      <ProblemMessage error={schedules.error} />
      <div className="panel">
        <table aria-label="Schedules">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Time zone</th>
              <th scope="col">On call now</th>
              <th scope="col">Next</th>
              <th scope="col">Layers</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {items.map((s) => (
              <ScheduleRow
                key={s.id}
                schedule={s}
                admin={admin}
                selected={selected?.id === s.id}
                onShow={() => setShown(s.id)}
                onEdit={() => setEditing(s)}
                onDeleted={() => {
                  if (shown === s.id) setShown(null);
                  refresh();
                }}
              />
            ))}
          </tbody>
        </table>
        {schedules.data?.items.length === 0 && <p className="muted">No schedules yet.</p>}
      </div>
      {selected && <ScheduleDetail key={selected.id} schedule={selected} admin={admin} />}
    </section>
  );
}

function useOnCall(scheduleId: string) {
  return useQuery({
    queryKey: ['schedule', scheduleId, 'on-call'],
    queryFn: ({ signal }) => get<OnCallNow>(`/api/v1/schedules/${scheduleId}/on-call`, undefined, signal),
    refetchInterval: 60000,
  });
}

interface RowProps {
  schedule: Schedule;
  admin: boolean;
  selected: boolean;
  onShow: () => void;
  onEdit: () => void;
  onDeleted: () => void;
}

function ScheduleRow({ schedule: s, admin, selected, onShow, onEdit, onDeleted }: RowProps) {
  const now = useOnCall(s.id);
  return (
    <tr aria-current={selected || undefined}>
      <td>
        <button className="link" onClick={onShow} aria-label={`Show schedule ${s.name}`}>
          {s.name}
        </button>
      </td>
      <td>{s.time_zone}</td>
      <td data-testid="on-call-now">{now.data ? who(now.data.on_call) : ''}</td>
      <td>{now.data?.next ? `${who(now.data.next)} from ${inZone(now.data.next.starts_at, s.time_zone)}` : ''}</td>
      <td>{s.layers.length}</td>
      <td className="row">
        {admin && (
          <>
            <button onClick={onEdit} aria-label={`Edit schedule ${s.name}`}>
              Edit
            </button>
            <ConfirmButton
              label={`Delete schedule ${s.name}`}
              title={`Delete ${s.name}?`}
              message={s.escalation_policies > 0 ? `${s.escalation_policies} escalation policies page this schedule: the server refuses until they no longer do.` : 'Its layers, overrides and calendar feed go with it.'}
              confirmLabel="Delete"
              danger
              onConfirm={async () => {
                await del(`/api/v1/schedules/${s.id}`);
                onDeleted();
              }}
            />
          </>
        )}
      </td>
    </tr>
  );
}

// Who is on call over the next 14 days, as a strip per day and as a list of shifts; the overrides; the feed.
function ScheduleDetail({ schedule, admin }: { schedule: Schedule; admin: boolean }) {
  // The strips are the schedule's local days from today's midnight there (23 or 25 hours long across a
  // change of the clocks); the shifts are asked for from then, a day more to cover the last local day.
  const [days] = useState(() => {
    const today = utcToZoned(new Date().toISOString(), schedule.time_zone).slice(0, 10);
    const [y, m, d] = today.split('-').map(Number) as [number, number, number];
    return Array.from({ length: 15 }, (_, i) => Date.parse(zonedToUtc(`${new Date(Date.UTC(y, m - 1, d + i)).toISOString().slice(0, 10)}T00:00`, schedule.time_zone)));
  });
  const from = days[0] ?? Date.now();
  const timeline = useQuery({
    queryKey: ['schedule', schedule.id, 'timeline', from],
    queryFn: ({ signal }) => get<Timeline>(`/api/v1/schedules/${schedule.id}/timeline`, { from: new Date(from).toISOString(), days: 15 }, signal),
  });
  const shifts = timeline.data?.shifts ?? [];

  return (
    <div className="panel" aria-label={`Schedule ${schedule.name}`} role="region">
      <h2>{schedule.name}</h2>
      {schedule.description && <p className="muted">{schedule.description}</p>}
      <h3>Today and the next 13 days ({schedule.time_zone})</h3>
      <ProblemMessage error={timeline.error} />
      <div className={styles.strips} aria-hidden="true">
        {days.slice(0, 14).map((day, i) => {
          const end = days[i + 1] ?? day + DAY_MS;
          return (
          <div key={day} className={styles.strip}>
            <span className={styles.day}>{new Date(day).toLocaleDateString(undefined, { timeZone: schedule.time_zone, weekday: 'short', day: 'numeric', month: 'short' })}</span>
            <div className={styles.bar}>
              {shifts
                .filter((sh) => Date.parse(sh.ends_at) > day && Date.parse(sh.starts_at) < end)
                .map((sh) => {
                  const a = Math.max(Date.parse(sh.starts_at), day);
                  const b = Math.min(Date.parse(sh.ends_at), end);
                  return (
                    <span
                      key={sh.starts_at + sh.user.id}
                      className={sh.source.type === 'override' ? styles.override : undefined}
                      style={{ left: `${((a - day) / (end - day)) * 100}%`, width: `${((b - a) / (end - day)) * 100}%`, background: colourOf(sh.user.id) }}
                      title={`${who(sh)}: ${inZone(sh.starts_at, schedule.time_zone)} to ${inZone(sh.ends_at, schedule.time_zone)}`}
                    >
                      {who(sh)}
                    </span>
                  );
                })}
            </div>
          </div>
          );
        })}
      </div>
      <table aria-label="Shifts">
        <thead>
          <tr>
            <th scope="col">From</th>
            <th scope="col">To</th>
            <th scope="col">Who</th>
            <th scope="col">Why</th>
          </tr>
        </thead>
        <tbody>
          {shifts.map((sh) => (
            <tr key={sh.starts_at + sh.user.id}>
              <td>{inZone(sh.starts_at, schedule.time_zone)}</td>
              <td>{inZone(sh.ends_at, schedule.time_zone)}</td>
              <td>
                <span className={styles.swatch} style={{ background: colourOf(sh.user.id) }} />
                {who(sh)}
              </td>
              <td>{sourceText(sh)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {timeline.data && shifts.length === 0 && <p className="muted">Nobody is on call in the next 14 days.</p>}
      <Overrides schedule={schedule} admin={admin} />
      <CalendarFeed path={`/api/v1/schedules/${schedule.id}/calendar-url`} label={`Calendar feed of ${schedule.name}`} />
    </div>
  );
}

function Overrides({ schedule, admin }: { schedule: Schedule; admin: boolean }) {
  const client = useQueryClient();
  const overrides = useQuery({
    queryKey: ['schedule', schedule.id, 'overrides'],
    queryFn: ({ signal }) => get<OverrideList>(`/api/v1/schedules/${schedule.id}/overrides`, undefined, signal),
  });
  const users = useQuery({ queryKey: ['users'], enabled: admin, queryFn: ({ signal }) => get<UserList>('/api/v1/users', undefined, signal) });
  const [userId, setUserId] = useState('');
  const [startsAt, setStartsAt] = useState('');
  const [endsAt, setEndsAt] = useState('');
  const [note, setNote] = useState('');
  const refresh = () => client.invalidateQueries({ queryKey: ['schedule', schedule.id] });
  const { error, busy, submit } = useSubmit(async () => {
    await post(`/api/v1/schedules/${schedule.id}/overrides`, { user_id: userId, starts_at: zonedToUtc(startsAt, schedule.time_zone), ends_at: zonedToUtc(endsAt, schedule.time_zone), ...(note ? { note } : {}) });
    setNote('');
    refresh();
  });
  const problem = (field: string) => problemFor(error, field);
  const invalid = (field: string, id: string) => invalidAttrs(problem(field), id);

  return (
    <>
      <h3>Overrides</h3>
      <table aria-label="Overrides">
        <thead>
          <tr>
            <th scope="col">Who</th>
            <th scope="col">From</th>
            <th scope="col">To</th>
            <th scope="col">Note</th>
            {admin && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {(overrides.data?.items ?? []).map((o) => (
            <tr key={o.id}>
              <td>{o.user.name}</td>
              <td>{inZone(o.starts_at, schedule.time_zone)}</td>
              <td>{inZone(o.ends_at, schedule.time_zone)}</td>
              <td>{o.note}</td>
              {admin && (
                <td>
                  <ConfirmButton
                    label={`Remove override of ${o.user.name}`}
                    title="Remove this override?"
                    message="The rotation decides who is on call for that time again."
                    confirmLabel="Remove"
                    onConfirm={async () => {
                      await del(`/api/v1/schedules/${schedule.id}/overrides/${o.id}`);
                      refresh();
                    }}
                  />
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {overrides.data?.items.length === 0 && <p className="muted">No overrides.</p>}
      {admin && (
        <form className="toolbar" onSubmit={submit} aria-label="New override">
          <div>
            <label htmlFor="ov-user">Who</label>
            <select id="ov-user" required value={userId} {...invalid('user_id', 'ov-user')} onChange={(e) => setUserId(e.target.value)}>
              <option value="">choose a person</option>
              {(users.data?.items ?? []).map((u) => (
                <option key={u.id} value={u.id}>
                  {u.display_name || u.email}
                </option>
              ))}
            </select>
            <FieldProblem id="ov-user-problem" text={problem('user_id')} />
          </div>
          <div>
            <label htmlFor="ov-starts">From ({schedule.time_zone})</label>
            <input id="ov-starts" type="datetime-local" required value={startsAt} {...invalid('starts_at', 'ov-starts')} onChange={(e) => setStartsAt(e.target.value)} />
            <FieldProblem id="ov-starts-problem" text={problem('starts_at')} />
          </div>
          <div>
            <label htmlFor="ov-ends">To ({schedule.time_zone})</label>
            <input id="ov-ends" type="datetime-local" required value={endsAt} {...invalid('ends_at', 'ov-ends')} onChange={(e) => setEndsAt(e.target.value)} />
            <FieldProblem id="ov-ends-problem" text={problem('ends_at')} />
          </div>
          <div>
            <label htmlFor="ov-note">Note</label>
            <input id="ov-note" maxLength={500} value={note} onChange={(e) => setNote(e.target.value)} />
          </div>
          <button className="primary" type="submit" disabled={busy}>
            Add override
          </button>
          {Boolean(error) && !problem('user_id') && !problem('starts_at') && !problem('ends_at') && <ProblemMessage error={error} />}
        </form>
      )}
    </>
  );
}

// A signed calendar URL, fetched when asked for (fetching it does not rotate it).
export function CalendarFeed({ path, label }: { path: string; label: string }) {
  const [feed, setFeed] = useState<CalendarUrl | null>(null);
  const [error, setError] = useState<unknown>(null);
  return (
    <div className="row" role="group" aria-label={label}>
      <button
        onClick={async () => {
          setError(null);
          try {
            setFeed(await get<CalendarUrl>(path));
          } catch (err) {
            setError(err);
          }
        }}
      >
        Calendar feed
      </button>
      {feed && (
        <input aria-label="Calendar URL" readOnly value={feed.url.startsWith('/') ? window.location.origin + feed.url : feed.url} onFocus={(e) => e.target.select()} size={60} />
      )}
      <ProblemMessage error={error} />
    </div>
  );
}

interface LayerDraft {
  name: string;
  rotation: Layer['rotation'];
  handoff: string;
  start_date: string;
  users: string[];
  restriction: Layer['restriction'];
}

function draftOf(layer: Layer): LayerDraft {
  return {
    name: layer.name ?? '',
    rotation: layer.rotation,
    handoff: layer.handoff,
    start_date: layer.start_date,
    users: layer.users.map((u) => (typeof u === 'string' ? u : u.id)),
    restriction: layer.restriction ?? null,
  };
}

// The fields of a layer that show their problem under them.
const LAYER_FIELDS = ['rotation', 'handoff', 'start_date', 'users'];

// A new schedule, or one to edit (saved whole). Each layer's people rotate in the order they are listed;
// a layer's restriction (a daily window) is kept as it is.
function ScheduleForm({ schedule, onDone, onCancel }: { schedule: Schedule | null; onDone: (id: string) => void; onCancel: () => void }) {
  const users = useQuery({ queryKey: ['users'], queryFn: ({ signal }) => get<UserList>('/api/v1/users', undefined, signal) });
  const [name, setName] = useState(schedule?.name ?? '');
  const [description, setDescription] = useState(schedule?.description ?? '');
  const [zone, setZone] = useState(schedule?.time_zone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC');
  const today = utcToZoned(new Date().toISOString(), zone).slice(0, 10);
  const [layers, setLayers] = useState<LayerDraft[]>(schedule ? schedule.layers.map(draftOf) : [{ name: '', rotation: 'weekly', handoff: '09:00', start_date: today, users: [], restriction: null }]);
  const title = schedule ? `Edit schedule ${schedule.name}` : 'New schedule';
  const nameOf = new Map((users.data?.items ?? []).map((u) => [u.id, u.display_name || u.email]));
  const change = (i: number, patch: Partial<LayerDraft>) => setLayers(layers.map((l, j) => (j === i ? { ...l, ...patch } : l)));

  const { error, busy, submit } = useSubmit(async () => {
    const body = {
      name,
      description,
      time_zone: zone,
      layers: layers.map((l) => ({ ...(l.name ? { name: l.name } : {}), rotation: l.rotation, handoff: l.handoff, start_date: l.start_date, users: l.users, ...(l.restriction ? { restriction: l.restriction } : {}) })),
    };
    const saved = schedule ? await put<Schedule>(`/api/v1/schedules/${schedule.id}`, body) : await post<Schedule>('/api/v1/schedules', body);
    onDone(saved.id);
  });
  const problem = (field: string) => problemFor(error, field);
  // "layers[1].handoff" belongs to the second layer's handoff field.
  const layerProblem = (i: number, field: string) => problem(`layers[${i}].${field}`);
  const placed = Boolean(problem('name') ?? problem('time_zone') ?? problem('layers')) || layers.some((_, i) => LAYER_FIELDS.some((f) => layerProblem(i, f)));

  return (
    <form className="panel" onSubmit={submit} aria-label={title}>
      <h3>{title}</h3>
      <div className="form-grid">
        <div className="field">
          <label htmlFor="sch-name">Name</label>
          <input id="sch-name" required maxLength={200} value={name} {...invalidAttrs(problem('name'), 'sch-name')} onChange={(e) => setName(e.target.value)} />
          <FieldProblem id="sch-name-problem" text={problem('name')} />
        </div>
        <div className="field">
          <label htmlFor="sch-description">Description</label>
          <input id="sch-description" maxLength={2000} value={description} onChange={(e) => setDescription(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="sch-zone">Time zone</label>
          <TimeZoneSelect id="sch-zone" value={zone} onChange={setZone} invalid={Boolean(problem('time_zone'))} describedBy={problem('time_zone') ? 'sch-zone-problem' : undefined} />
          <FieldProblem id="sch-zone-problem" text={problem('time_zone')} />
        </div>
      </div>
      <FieldProblem id="sch-layers-problem" text={problem('layers')} />
      {layers.map((l, i) => {
        const id = `sch-layer-${i}`;
        const invalid = (field: string) => invalidAttrs(layerProblem(i, field), `${id}-${field}`);
        return (
          <fieldset key={i} className={styles.layer} aria-label={`Layer ${i + 1}`}>
            <legend>
              Layer {i + 1}
              {i === layers.length - 1 && layers.length > 1 ? ' (wins over the layers above)' : ''}
            </legend>
            <div className="form-grid">
              <div className="field">
                <label htmlFor={`${id}-name`}>Layer name</label>
                <input id={`${id}-name`} maxLength={100} value={l.name} onChange={(e) => change(i, { name: e.target.value })} />
              </div>
              <div className="field">
                <label htmlFor={`${id}-rotation`}>Rotation</label>
                <select id={`${id}-rotation`} value={l.rotation} {...invalid('rotation')} onChange={(e) => change(i, { rotation: e.target.value as Layer['rotation'] })}>
                  <option value="daily">daily</option>
                  <option value="weekly">weekly</option>
                </select>
                <FieldProblem id={`${id}-rotation-problem`} text={layerProblem(i, 'rotation')} />
              </div>
              <div className="field">
                <label htmlFor={`${id}-handoff`}>Handoff at</label>
                <input id={`${id}-handoff`} required value={l.handoff} pattern="[0-9]{2}:[0-9]{2}" placeholder="09:00" {...invalid('handoff')} onChange={(e) => change(i, { handoff: e.target.value })} />
                <FieldProblem id={`${id}-handoff-problem`} text={layerProblem(i, 'handoff')} />
              </div>
              <div className="field">
                <label htmlFor={`${id}-start`}>First handoff on</label>
                <input id={`${id}-start`} type="date" required value={l.start_date} {...invalid('start_date')} onChange={(e) => change(i, { start_date: e.target.value })} />
                <FieldProblem id={`${id}-start_date-problem`} text={layerProblem(i, 'start_date')} />
              </div>
              <div className="field">
                <label htmlFor={`${id}-add`}>Add a person</label>
                <select
                  id={`${id}-add`}
                  value=""
                  {...invalid('users')}
                  onChange={(e) => {
                    if (e.target.value) change(i, { users: [...l.users, e.target.value] });
                  }}
                >
                  <option value="">choose…</option>
                  {(users.data?.items ?? [])
                    .filter((u) => !u.disabled && !l.users.includes(u.id))
                    .map((u) => (
                      <option key={u.id} value={u.id}>
                        {u.display_name || u.email}
                      </option>
                    ))}
                </select>
                <FieldProblem id={`${id}-users-problem`} text={layerProblem(i, 'users')} />
              </div>
            </div>
            <ol aria-label={`Rotation of layer ${i + 1}`}>
              {l.users.map((u, k) => (
                <li key={u}>
                  {nameOf.get(u) ?? u}{' '}
                  <button type="button" disabled={k === 0} aria-label={`Move ${nameOf.get(u) ?? u} up`} onClick={() => change(i, { users: l.users.map((x, j) => (j === k - 1 ? u : j === k ? (l.users[k - 1] ?? x) : x)) })}>
                    ↑
                  </button>
                  <button type="button" aria-label={`Remove ${nameOf.get(u) ?? u}`} onClick={() => change(i, { users: l.users.filter((x) => x !== u) })}>
                    ×
                  </button>
                </li>
              ))}
            </ol>
            {l.restriction && <p className="muted">Only {l.restriction.from}–{l.restriction.to}{l.restriction.days ? ` on days ${l.restriction.days.join(', ')}` : ''} (kept as it is).</p>}
            {layers.length > 1 && (
              <button type="button" onClick={() => setLayers(layers.filter((_, j) => j !== i))}>
                Remove layer {i + 1}
              </button>
            )}
          </fieldset>
        );
      })}
      <div className="row">
        <button type="button" disabled={layers.length >= 10} onClick={() => setLayers([...layers, { name: '', rotation: 'weekly', handoff: '09:00', start_date: today, users: [], restriction: null }])}>
          Add layer
        </button>
      </div>
      <FormFooter error={error} placed={placed} busy={busy} submitLabel={schedule ? 'Save schedule' : 'Create schedule'} onCancel={onCancel} />
    </form>
  );
}
