// Escalation policies and the contact methods they page people through. A policy has up to five levels:
// level 1 pages when an alert opens, each next one after the previous level's delay, while nobody
// acknowledges; its targets are channels, people (each of their contact methods) and on-call schedules
// (whoever is on call when the level fires). A tenant-admin edits policies; everyone manages their own
// contact methods, a tenant-admin anyone's.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { del, get, post, put } from '../api/client';
import type { components } from '../api/schema.gen';
import type { ChannelList, UserList } from '../api/types';
import { can, usePrincipal } from '../auth/session';
import { ConfirmButton } from '../components/ConfirmButton';
import { FieldProblem } from '../components/FieldProblem';
import { ProblemMessage } from '../components/Problem';
import { FormFooter, invalidAttrs, problemFor, useSubmit } from '../components/forms';

type S = components['schemas'];
type Policy = S['EscalationPolicy'];
type PolicyList = S['EscalationPolicyList'];
type Target = S['EscalationTarget'];
type TargetType = Target['type'];
type ScheduleList = S['ScheduleList'];
type ContactMethodList = S['ContactMethodList'];

const MAX_LEVELS = 5;
const MAX_TARGETS = 10;

function delayText(s: number | undefined): string {
  const v = s ?? 300;
  return v % 3600 === 0 ? `${v / 3600} h` : v % 60 === 0 ? `${v / 60} min` : `${v} s`;
}

function targetText(t: Target): string {
  const name = t.name ?? t.id;
  if (t.type === 'schedule') return `on call in ${name}${t.next_on_repeat ? ' (next person on repeat)' : ''}`;
  return t.type === 'user' ? name : `channel ${name}`;
}

export function Escalation() {
  const principal = usePrincipal();
  const admin = can(principal, 'administer');
  const client = useQueryClient();
  const policies = useQuery({ queryKey: ['escalation-policies'], queryFn: ({ signal }) => get<PolicyList>('/api/v1/escalation-policies', undefined, signal) });
  const [editing, setEditing] = useState<Policy | 'new' | null>(null);
  const refresh = () => client.invalidateQueries({ queryKey: ['escalation-policies'] });

  return (
    <section>
      <div className="row">
        <h1>Escalation</h1>
        <span className="spacer" />
        {admin && !editing && (
          <button className="primary" onClick={() => setEditing('new')}>
            New policy
          </button>
        )}
      </div>
      {editing && (
        <PolicyForm
          key={editing === 'new' ? 'new' : editing.id}
          policy={editing === 'new' ? null : editing}
          onDone={() => {
            setEditing(null);
            refresh();
          }}
          onCancel={() => setEditing(null)}
        />
      )}
      <ProblemMessage error={policies.error} />
      <div className="panel">
        <table aria-label="Escalation policies">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Levels</th>
              <th scope="col">Repeats</th>
              <th scope="col">Rules</th>
              {admin && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {(policies.data?.items ?? []).map((p) => (
              <tr key={p.id}>
                <td>
                  {p.name} {p.default && <span className="badge">tenant default</span>}
                  {p.description && <div className="muted">{p.description}</div>}
                </td>
                <td>
                  <ol className="compact">
                    {p.levels.map((l, i) => (
                      <li key={i}>
                        {l.targets.map(targetText).join(', ')}
                        <span className="muted">{i < p.levels.length - 1 ? `, then after ${delayText(l.delay_s)}` : p.repeat > 0 ? `, then again after ${delayText(l.delay_s)}` : ''}</span>
                      </li>
                    ))}
                  </ol>
                </td>
                <td>{p.repeat === 0 ? 'once' : `${p.repeat} more time${p.repeat === 1 ? '' : 's'}`}</td>
                <td>{p.rules}</td>
                {admin && (
                  <td className="row">
                    <button onClick={() => setEditing(p)} aria-label={`Edit policy ${p.name}`}>
                      Edit
                    </button>
                    <ConfirmButton
                      label={`Delete policy ${p.name}`}
                      title={`Delete ${p.name}?`}
                      message={p.rules > 0 ? `${p.rules} rules name this policy: the server refuses until they name another.` : 'Alerts escalating by it stop escalating.'}
                      confirmLabel="Delete"
                      danger
                      onConfirm={async () => {
                        await del(`/api/v1/escalation-policies/${p.id}`);
                        refresh();
                      }}
                    />
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
        {policies.data?.items.length === 0 && <p className="muted">No escalation policies: alerts go only where the routing rules send them.</p>}
      </div>
      <ContactMethods />
    </section>
  );
}

interface LevelDraft {
  delayMinutes: string;
  targets: Target[];
}

// A new policy, or one to edit (saved whole). Targets are chosen by type and name.
function PolicyForm({ policy, onDone, onCancel }: { policy: Policy | null; onDone: () => void; onCancel: () => void }) {
  const channels = useQuery({ queryKey: ['channels'], queryFn: ({ signal }) => get<ChannelList>('/api/v1/channels', undefined, signal) });
  const users = useQuery({ queryKey: ['users'], queryFn: ({ signal }) => get<UserList>('/api/v1/users', undefined, signal) });
  const schedules = useQuery({ queryKey: ['schedules'], queryFn: ({ signal }) => get<ScheduleList>('/api/v1/schedules', undefined, signal) });
  const [name, setName] = useState(policy?.name ?? '');
  const [description, setDescription] = useState(policy?.description ?? '');
  const [repeat, setRepeat] = useState(String(policy?.repeat ?? 0));
  const [isDefault, setIsDefault] = useState(policy?.default ?? false);
  const [levels, setLevels] = useState<LevelDraft[]>(
    policy ? policy.levels.map((l) => ({ delayMinutes: String((l.delay_s ?? 300) / 60), targets: l.targets })) : [{ delayMinutes: '5', targets: [] }],
  );
  const title = policy ? `Edit policy ${policy.name}` : 'New escalation policy';
  const choices: Record<TargetType, { id: string; name: string }[]> = {
    channel: (channels.data?.items ?? []).map((c) => ({ id: c.id, name: c.name })),
    user: (users.data?.items ?? []).filter((u) => !u.disabled).map((u) => ({ id: u.id, name: u.display_name || u.email })),
    schedule: (schedules.data?.items ?? []).map((s) => ({ id: s.id, name: s.name })),
  };
  const change = (i: number, patch: Partial<LevelDraft>) => setLevels(levels.map((l, j) => (j === i ? { ...l, ...patch } : l)));

  const { error, busy, submit } = useSubmit(async () => {
    const body = {
      name,
      description,
      repeat: Number(repeat),
      default: isDefault,
      levels: levels.map((l) => ({
        delay_s: Math.round(Number(l.delayMinutes) * 60),
        targets: l.targets.map((t) => ({ type: t.type, id: t.id, ...(t.type === 'schedule' ? { next_on_repeat: Boolean(t.next_on_repeat) } : {}) })),
      })),
    };
    if (policy) await put(`/api/v1/escalation-policies/${policy.id}`, body);
    else await post('/api/v1/escalation-policies', body);
    onDone();
  });
  const problem = (field: string) => problemFor(error, field);
  // Anything said about a level (its delay, its targets, one of them) is shown with that level.
  const levelOf = (f: string) => /^levels\[\d+\]/.exec(f)?.[0] ?? f;
  const levelProblem = (i: number) => problemFor(error, `levels[${i}]`, levelOf);
  const placed = Boolean(problem('name') ?? problem('repeat') ?? problem('levels')) || levels.some((_, i) => levelProblem(i));

  return (
    <form className="panel" onSubmit={submit} aria-label={title}>
      <h3>{title}</h3>
      <div className="form-grid">
        <div className="field">
          <label htmlFor="ep-name">Name</label>
          <input id="ep-name" required maxLength={200} value={name} {...invalidAttrs(problem('name'), 'ep-name')} onChange={(e) => setName(e.target.value)} />
          <FieldProblem id="ep-name-problem" text={problem('name')} />
        </div>
        <div className="field">
          <label htmlFor="ep-description">Description</label>
          <input id="ep-description" maxLength={2000} value={description} onChange={(e) => setDescription(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="ep-repeat">Repeat the levels (times)</label>
          <input id="ep-repeat" type="number" min={0} max={9} required value={repeat} {...invalidAttrs(problem('repeat'), 'ep-repeat')} onChange={(e) => setRepeat(e.target.value)} />
          <FieldProblem id="ep-repeat-problem" text={problem('repeat')} />
        </div>
        <label className="row">
          <input type="checkbox" checked={isDefault} onChange={(e) => setIsDefault(e.target.checked)} />
          Tenant default (for rules that name no policy)
        </label>
      </div>
      <FieldProblem id="ep-levels-problem" text={problem('levels')} />
      {levels.map((l, i) => (
        <LevelEditor key={i} index={i} level={l} last={i === levels.length - 1} choices={choices} problem={levelProblem(i)} onChange={(patch) => change(i, patch)} onRemove={levels.length > 1 ? () => setLevels(levels.filter((_, j) => j !== i)) : undefined} />
      ))}
      <div className="row">
        <button type="button" disabled={levels.length >= MAX_LEVELS} onClick={() => setLevels([...levels, { delayMinutes: '10', targets: [] }])}>
          Add level
        </button>
        {levels.length >= MAX_LEVELS && <span className="muted">A policy has at most {MAX_LEVELS} levels.</span>}
      </div>
      <FormFooter error={error} placed={placed} busy={busy} submitLabel={policy ? 'Save policy' : 'Create policy'} onCancel={onCancel} />
    </form>
  );
}

interface LevelProps {
  index: number;
  level: LevelDraft;
  last: boolean;
  choices: Record<TargetType, { id: string; name: string }[]>;
  problem: string | undefined;
  onChange: (patch: Partial<LevelDraft>) => void;
  onRemove: (() => void) | undefined;
}

function LevelEditor({ index, level, last, choices, problem, onChange, onRemove }: LevelProps) {
  const [type, setType] = useState<TargetType>('channel');
  const id = `ep-level-${index}`;
  const available = choices[type].filter((c) => !level.targets.some((t) => t.type === type && t.id === c.id));
  const nameOf = (t: Target) => t.name ?? choices[t.type].find((c) => c.id === t.id)?.name ?? t.id;
  return (
    <fieldset className="panel" aria-label={`Level ${index + 1}`} aria-describedby={problem ? `${id}-problem` : undefined}>
      <legend>Level {index + 1}</legend>
      <ul>
        {level.targets.map((t, k) => (
          <li key={`${t.type}:${t.id}`}>
            {targetText({ ...t, name: nameOf(t) })}
            {t.type === 'schedule' && (
              <label className="row">
                <input type="checkbox" checked={Boolean(t.next_on_repeat)} onChange={(e) => onChange({ targets: level.targets.map((x, j) => (j === k ? { ...x, next_on_repeat: e.target.checked } : x)) })} />
                on repeat, the next person on call
              </label>
            )}{' '}
            <button type="button" aria-label={`Remove ${nameOf(t)} from level ${index + 1}`} onClick={() => onChange({ targets: level.targets.filter((_, j) => j !== k) })}>
              ×
            </button>
          </li>
        ))}
      </ul>
      {level.targets.length === 0 && <p className="muted">No targets yet.</p>}
      <div className="toolbar">
        <div>
          <label htmlFor={`${id}-type`}>Page</label>
          <select id={`${id}-type`} value={type} onChange={(e) => setType(e.target.value as TargetType)}>
            <option value="channel">a channel</option>
            <option value="user">a person</option>
            <option value="schedule">who is on call</option>
          </select>
        </div>
        <div>
          <label htmlFor={`${id}-target`}>Target</label>
          <select
            id={`${id}-target`}
            value=""
            disabled={level.targets.length >= MAX_TARGETS}
            onChange={(e) => {
              const chosen = choices[type].find((c) => c.id === e.target.value);
              if (chosen) onChange({ targets: [...level.targets, { type, id: chosen.id, name: chosen.name, next_on_repeat: false }] });
            }}
          >
            <option value="">add…</option>
            {available.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={`${id}-delay`}>{last ? 'Then, before repeating (minutes)' : 'Then, before the next level (minutes)'}</label>
          <input id={`${id}-delay`} type="number" min={0.1} step="any" required value={level.delayMinutes} onChange={(e) => onChange({ delayMinutes: e.target.value })} />
        </div>
        {onRemove && (
          <button type="button" onClick={onRemove}>
            Remove level {index + 1}
          </button>
        )}
      </div>
      <FieldProblem id={`${id}-problem`} text={problem} />
    </fieldset>
  );
}

// A person's contact methods: an e-mail address (through an e-mail channel's relay) or a channel of their own.
function ContactMethods() {
  const principal = usePrincipal();
  const admin = can(principal, 'administer');
  const client = useQueryClient();
  const users = useQuery({ queryKey: ['users'], enabled: admin, queryFn: ({ signal }) => get<UserList>('/api/v1/users', undefined, signal) });
  const channels = useQuery({ queryKey: ['channels'], queryFn: ({ signal }) => get<ChannelList>('/api/v1/channels', undefined, signal) });
  const [userId, setUserId] = useState(principal.id);
  const methods = useQuery({
    queryKey: ['contact-methods', userId],
    queryFn: ({ signal }) => get<ContactMethodList>(`/api/v1/users/${userId}/contact-methods`, undefined, signal),
  });
  const [kind, setKind] = useState<'email' | 'channel'>('email');
  const [address, setAddress] = useState('');
  const [channelId, setChannelId] = useState('');
  const [label, setLabel] = useState('');
  const refresh = () => client.invalidateQueries({ queryKey: ['contact-methods', userId] });
  const usable = (channels.data?.items ?? []).filter((c) => (kind === 'email' ? c.type === 'smtp' : c.type !== 'smtp'));

  const { error, busy, submit } = useSubmit(async () => {
    await post(`/api/v1/users/${userId}/contact-methods`, { kind, channel_id: channelId, label, ...(kind === 'email' ? { address } : {}) });
    setAddress('');
    setLabel('');
    refresh();
  });
  const problem = (field: string) => problemFor(error, field);
  const invalid = (field: string, id: string) => invalidAttrs(problem(field), id);

  return (
    <div className="panel" role="region" aria-label="Contact methods">
      <div className="row">
        <h2>Contact methods</h2>
        <span className="spacer" />
        {admin && (
          <>
            <label htmlFor="cm-user">Person</label>
            <select id="cm-user" value={userId} onChange={(e) => setUserId(e.target.value)}>
              {(users.data?.items ?? []).map((u) => (
                <option key={u.id} value={u.id}>
                  {u.display_name || u.email}
                  {u.id === principal.id ? ' (you)' : ''}
                </option>
              ))}
            </select>
          </>
        )}
      </div>
      <p className="muted">A level that pages a person, or the schedule they are on call in, reaches them through each of these.</p>
      <ProblemMessage error={methods.error} />
      <table aria-label="Contact methods of the person">
        <thead>
          <tr>
            <th scope="col">Kind</th>
            <th scope="col">Reaches</th>
            <th scope="col">Label</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {(methods.data?.items ?? []).map((m) => (
            <tr key={m.id}>
              <td>{m.kind === 'email' ? 'e-mail' : m.channel.type}</td>
              <td>{m.kind === 'email' ? `${m.address} (through ${m.channel.name})` : m.channel.name}</td>
              <td>{m.label}</td>
              <td>
                <ConfirmButton
                  label={`Remove contact method ${m.label || m.address || m.channel.name}`}
                  title="Remove this contact method?"
                  message="Pages no longer reach this person this way."
                  confirmLabel="Remove"
                  onConfirm={async () => {
                    await del(`/api/v1/users/${userId}/contact-methods/${m.id}`);
                    refresh();
                  }}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {methods.data?.items.length === 0 && <p className="muted">None yet: pages to this person reach nobody.</p>}
      <form className="toolbar" onSubmit={submit} aria-label="New contact method">
        <div>
          <label htmlFor="cm-kind">Kind</label>
          <select
            id="cm-kind"
            value={kind}
            onChange={(e) => {
              setKind(e.target.value as 'email' | 'channel');
              setChannelId('');
            }}
          >
            <option value="email">e-mail address</option>
            <option value="channel">a channel of their own</option>
          </select>
        </div>
        {kind === 'email' && (
          <div>
            <label htmlFor="cm-address">Address</label>
            <input id="cm-address" type="email" required maxLength={254} value={address} {...invalid('address', 'cm-address')} onChange={(e) => setAddress(e.target.value)} />
            <FieldProblem id="cm-address-problem" text={problem('address')} />
          </div>
        )}
        <div>
          <label htmlFor="cm-channel">{kind === 'email' ? 'Sent through (e-mail channel)' : 'Channel'}</label>
          <select id="cm-channel" required value={channelId} {...invalid('channel_id', 'cm-channel')} onChange={(e) => setChannelId(e.target.value)}>
            <option value="">choose…</option>
            {usable.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
          <FieldProblem id="cm-channel-problem" text={problem('channel_id')} />
        </div>
        <div>
          <label htmlFor="cm-label">Label</label>
          <input id="cm-label" maxLength={100} value={label} onChange={(e) => setLabel(e.target.value)} />
        </div>
        <button className="primary" type="submit" disabled={busy}>
          Add contact method
        </button>
        {Boolean(error) && !problem('address') && !problem('channel_id') && <ProblemMessage error={error} />}
      </form>
    </div>
  );
}
