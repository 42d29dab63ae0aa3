// The alert inbox: tabs by severity, filters (status, site, rule, assignee, device), bulk acknowledge / close / silence /
// assign, a row that expands to its history, comments and deliveries, and keys for people who live in it
// (j/k move, x select, a acknowledge, c close, Enter expand, ? the keys).
import { useInfiniteQuery, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { get, post } from '../api/client';
import { useLiveInterval } from '../api/live';
import { useSites } from '../api/queries';
import { SEVERITIES, type Alert, type AlertList, type BulkAlertResult, type RuleList, type UserList } from '../api/types';
import { can, usePrincipal } from '../auth/session';
import { SeverityBadge } from '../components/Badges';
import { ProblemMessage } from '../components/Problem';
import { TimeAgo } from '../components/TimeAgo';
import { AlertDetailPanel } from './AlertDetailPanel';
import styles from './Alerts.module.css';

const STATUSES = ['OPEN', 'ACKNOWLEDGED', 'CLOSED'] as const;
const PAGE = 50;

export function Alerts() {
  const principal = usePrincipal();
  const mayChange = can(principal, 'change');
  const client = useQueryClient();
  const [params, setParams] = useSearchParams();
  const filter = {
    severity: params.get('severity') ?? '',
    status: params.get('status') ?? 'OPEN',
    site_id: params.get('site_id') ?? '',
    device_id: params.get('device_id') ?? '',
    rule_id: params.get('rule_id') ?? '',
    assignee: params.get('assignee') ?? '',
  };
  const openId = params.get('open') ? Number(params.get('open')) : undefined;
  const setParam = (key: string, value: string | undefined) =>
    setParams(
      (current) => {
        const next = new URLSearchParams(current);
        if (value) next.set(key, value);
        else next.delete(key);
        return next;
      },
      { replace: true },
    );

  const sites = useSites();
  const rules = useQuery({ queryKey: ['rules'], queryFn: ({ signal }) => get<RuleList>('/api/v1/rules', undefined, signal), staleTime: 60_000 });
  // Only tenant-admins may list users: the others assign to themselves and filter by themselves.
  const admin = can(principal, 'administer');
  const users = useQuery({
    queryKey: ['users'],
    queryFn: ({ signal }) => get<UserList>('/api/v1/users', { limit: 200 }, signal),
    enabled: admin,
    staleTime: 60_000,
  });
  const people = (users.data?.items ?? []).filter((u) => !u.disabled);
  const [assignTo, setAssignTo] = useState('');
  const interval = useLiveInterval();
  const alerts = useInfiniteQuery({
    queryKey: ['alerts', 'inbox', filter],
    queryFn: ({ pageParam, signal }) =>
      get<AlertList>('/api/v1/alerts', { ...filter, status: filter.status === 'ANY' ? 'ALL' : filter.status, limit: PAGE, cursor: pageParam }, signal),
    initialPageParam: '' as string,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    refetchInterval: interval,
  });
  const rows: Alert[] = alerts.data?.pages.flatMap((p) => p.items) ?? [];

  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [focus, setFocus] = useState(0);
  const [actionError, setActionError] = useState<unknown>(null);
  const [notice, setNotice] = useState('');
  const [silenceMinutes, setSilenceMinutes] = useState(60);
  const help = useRef<HTMLDialogElement>(null);
  const tbody = useRef<HTMLTableSectionElement>(null);

  // Selection keeps only alerts still listed.
  useEffect(() => {
    const listed = new Set(rows.map((a) => a.id));
    setSelected((s) => {
      const kept = new Set([...s].filter((id) => listed.has(id)));
      return kept.size === s.size ? s : kept;
    });
  }, [alerts.data]); // eslint-disable-line react-hooks/exhaustive-deps -- rows derive from alerts.data

  const refresh = useCallback(() => {
    client.invalidateQueries({ queryKey: ['alerts'] });
    client.invalidateQueries({ queryKey: ['alert'] });
    client.invalidateQueries({ queryKey: ['fleet-summary'] });
  }, [client]);

  // The selected alerts, or else the focused one.
  const targets = useCallback((): number[] => {
    if (selected.size > 0) return [...selected];
    const a = rows[focus];
    return a ? [a.id] : [];
  }, [selected, rows, focus]);

  const bulk = useCallback(
    async (action: 'acknowledge' | 'close' | 'silence') => {
      const ids = targets();
      if (ids.length === 0) return;
      setActionError(null);
      try {
        const body: Record<string, unknown> = { action, ids };
        if (action === 'silence') body.minutes = silenceMinutes;
        const r = await post<BulkAlertResult>('/api/v1/alerts/bulk', body);
        const skipped = r.results.filter((x) => x.result === 'skipped').length;
        const failed = r.results.filter((x) => x.result === 'error').length;
        setNotice(
          `${action}: ${r.changed} changed` + (skipped ? `, ${skipped} skipped (not in a state for it)` : '') + (failed ? `, ${failed} failed: retry` : ''),
        );
        setSelected(new Set());
        refresh();
      } catch (e) {
        setActionError(e);
      }
    },
    [targets, silenceMinutes, refresh],
  );

  // To the person chosen (or the user themself): one assignment per alert, as the API has them.
  const assign = async (userId: string) => {
    const ids = targets();
    setActionError(null);
    try {
      for (const id of ids) await post(`/api/v1/alerts/${id}/assign`, { assignee_id: userId });
      const who = userId === principal.id ? 'you' : (people.find((u) => u.id === userId)?.email ?? 'them');
      setNotice(`assigned ${ids.length} to ${who}`);
      setSelected(new Set());
      refresh();
    } catch (e) {
      setActionError(e);
    }
  };

  const toggle = (id: number) =>
    setSelected((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  // The inbox's keys, unless the user is typing somewhere.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (t.closest('input, textarea, select, [contenteditable="true"]') || e.ctrlKey || e.metaKey || e.altKey) return;
      if (t.closest('dialog[open]') && e.key !== '?') return;
      const current = rows[focus];
      switch (e.key) {
        case 'j':
          setFocus((f) => Math.min(f + 1, Math.max(rows.length - 1, 0)));
          break;
        case 'k':
          setFocus((f) => Math.max(f - 1, 0));
          break;
        case 'x':
          if (current) toggle(current.id);
          break;
        case 'a':
          if (mayChange) void bulk('acknowledge');
          break;
        case 'c':
          if (mayChange) void bulk('close');
          break;
        case 'Enter':
        case 'o':
          if (current) setParam('open', openId === current.id ? undefined : String(current.id));
          break;
        case '?':
          if (help.current?.open) help.current.close();
          else help.current?.showModal();
          break;
        default:
          return;
      }
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  useEffect(() => {
    tbody.current?.querySelector<HTMLElement>(`[data-row="${focus}"]`)?.scrollIntoView({ block: 'nearest' });
  }, [focus]);

  const allSelected = rows.length > 0 && rows.every((a) => selected.has(a.id));

  return (
    <section>
      <div className="row">
        <h1>Alerts</h1>
        <span className="spacer" />
        <button className="link" onClick={() => help.current?.showModal()}>
          Keyboard: ?
        </button>
      </div>
      <div className="tabs" role="tablist" aria-label="Severity">
        {['', ...SEVERITIES].map((sev) => (
          <button key={sev || 'all'} role="tab" aria-selected={filter.severity === sev} onClick={() => setParam('severity', sev || undefined)}>
            {sev ? sev[0] + sev.slice(1).toLowerCase() : 'All'}
          </button>
        ))}
      </div>
      <div className="toolbar">
        <div>
          <label htmlFor="alert-status">Status</label>
          <select id="alert-status" value={filter.status} onChange={(e) => setParam('status', e.target.value)}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
            <option value="ANY">any</option>
          </select>
        </div>
        <div>
          <label htmlFor="alert-site">Site</label>
          <select id="alert-site" value={filter.site_id} onChange={(e) => setParam('site_id', e.target.value || undefined)}>
            <option value="">any</option>
            {(sites.data?.items ?? []).map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="alert-rule">Rule</label>
          <select id="alert-rule" value={filter.rule_id} onChange={(e) => setParam('rule_id', e.target.value || undefined)}>
            <option value="">any</option>
            {(rules.data?.items ?? []).map((r) => (
              <option key={r.id} value={r.id}>
                {r.name}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="alert-assignee">Assignee</label>
          <select id="alert-assignee" value={filter.assignee} onChange={(e) => setParam('assignee', e.target.value || undefined)}>
            <option value="">anyone</option>
            <option value="none">unassigned</option>
            <option value={principal.id}>me</option>
            {people
              .filter((u) => u.id !== principal.id)
              .map((u) => (
                <option key={u.id} value={u.id}>
                  {u.email}
                </option>
              ))}
          </select>
        </div>
        {filter.device_id && (
          <p className="row">
            Device {filter.device_id}
            <button onClick={() => setParam('device_id', undefined)}>Any device</button>
          </p>
        )}
        {mayChange && (
          <div className={styles.actions} role="group" aria-label="Actions on the selected alerts">
            <button onClick={() => bulk('acknowledge')}>Acknowledge</button>
            <button onClick={() => bulk('close')}>Close</button>
            <span className="row">
              <label htmlFor="silence-minutes" className="visually-hidden">
                Silence for
              </label>
              <select id="silence-minutes" value={silenceMinutes} onChange={(e) => setSilenceMinutes(Number(e.target.value))}>
                <option value={15}>15 min</option>
                <option value={60}>1 hour</option>
                <option value={240}>4 hours</option>
                <option value={1440}>1 day</option>
              </select>
              <button onClick={() => bulk('silence')}>Silence</button>
            </span>
            <button onClick={() => assign(principal.id)}>Assign to me</button>
            {admin && people.length > 0 && (
              <span className="row">
                <label htmlFor="assign-to" className="visually-hidden">
                  Assign to
                </label>
                <select id="assign-to" value={assignTo} onChange={(e) => setAssignTo(e.target.value)}>
                  <option value="">assign to…</option>
                  {people.map((u) => (
                    <option key={u.id} value={u.id}>
                      {u.email}
                    </option>
                  ))}
                </select>
                <button disabled={!assignTo} onClick={() => assign(assignTo)}>
                  Assign
                </button>
              </span>
            )}
          </div>
        )}
      </div>
      <ProblemMessage error={alerts.error ?? actionError} />
      {notice && (
        <p role="status" className="muted">
          {notice}
        </p>
      )}
      <div className="panel">
        <table aria-label="Alerts" className={styles.inbox}>
          <thead>
            <tr>
              <th scope="col">
                <input
                  type="checkbox"
                  aria-label="Select all listed alerts"
                  checked={allSelected}
                  onChange={() => setSelected(allSelected ? new Set() : new Set(rows.map((a) => a.id)))}
                />
              </th>
              <th scope="col">Severity</th>
              <th scope="col">Alert</th>
              <th scope="col" className={styles.wide}>
                Device
              </th>
              <th scope="col">Status</th>
              <th scope="col" className={styles.wide}>
                Opened
              </th>
            </tr>
          </thead>
          <tbody ref={tbody}>
            {rows.map((a, i) => (
              <AlertRow
                key={a.id}
                alert={a}
                index={i}
                focused={i === focus}
                selected={selected.has(a.id)}
                open={openId === a.id}
                onToggle={() => toggle(a.id)}
                onOpen={() => {
                  setFocus(i);
                  setParam('open', openId === a.id ? undefined : String(a.id));
                }}
                onChanged={refresh}
              />
            ))}
          </tbody>
        </table>
        {alerts.isSuccess && rows.length === 0 && <p className="muted">No alert matches.</p>}
        {alerts.hasNextPage && (
          <button onClick={() => alerts.fetchNextPage()} disabled={alerts.isFetchingNextPage}>
            Load more
          </button>
        )}
      </div>
      {openId !== undefined && !rows.some((a) => a.id === openId) && (
        <div className="panel">
          <AlertDetailPanel id={openId} onChanged={refresh} />
        </div>
      )}
      <dialog ref={help} aria-labelledby="keys-title">
        <h2 id="keys-title">Keyboard</h2>
        <table>
          <tbody>
            {[
              ['j / k', 'next / previous alert'],
              ['x', 'select or unselect it'],
              ['a', 'acknowledge the selected (or this one)'],
              ['c', 'close the selected (or this one)'],
              ['Enter / o', 'open or fold its details'],
              ['?', 'this help'],
            ].map(([k, what]) => (
              <tr key={k}>
                <td className="mono">{k}</td>
                <td>{what}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <button onClick={() => help.current?.close()}>Close</button>
      </dialog>
    </section>
  );
}

interface RowProps {
  alert: Alert;
  index: number;
  focused: boolean;
  selected: boolean;
  open: boolean;
  onToggle: () => void;
  onOpen: () => void;
  onChanged: () => void;
}

function AlertRow({ alert: a, index, focused, selected, open, onToggle, onOpen, onChanged }: RowProps) {
  return (
    <>
      <tr data-row={index} data-testid={`alert-${a.id}`} aria-selected={selected} className={`selectable ${focused ? styles.focused : ''}`}>
        <td>
          <input type="checkbox" aria-label={`Select alert ${a.summary} on ${a.device.name}`} checked={selected} onChange={onToggle} />
        </td>
        <td>
          <SeverityBadge severity={a.severity} />
        </td>
        <td>
          <button className="link" aria-expanded={open} onClick={onOpen}>
            {a.summary}
          </button>{' '}
          {a.flapping && <span className="badge sev-MEDIUM">flapping</span>}{' '}
          {a.maintenance && <span className="badge sev-INFO">in maintenance</span>}{' '}
          {a.suppressed && (
            <span className="badge sev-INFO" title={`${a.suppressed.reason}: ${a.suppressed.parent_name ?? 'a deleted device'}`}>
              suppressed
            </span>
          )}
        </td>
        <td className={styles.wide}>
          <Link to={`/devices/${a.device.id}`}>{a.device.name}</Link>
        </td>
        <td>
          {a.status}
          {a.silenced_until && Date.parse(a.silenced_until) > Date.now() && <span className="muted"> (silenced)</span>}
        </td>
        <td className={styles.wide}>
          <TimeAgo at={a.opened_at} />
        </td>
      </tr>
      {open && (
        <tr>
          <td colSpan={6}>
            <AlertDetailPanel id={a.id} onChanged={onChanged} />
          </td>
        </tr>
      )}
    </>
  );
}

