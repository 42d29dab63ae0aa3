// One alert, expanded: what happened to it (events, comments among them), every notification delivery with
// each attempt and the other side's answer, and a comment box that keeps what was typed if sending fails.
import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { get, post } from '../api/client';
import type { AlertDetail, DeliveryList } from '../api/types';
import { can, usePrincipal } from '../auth/session';
import { ProblemMessage, fieldProblem } from '../components/Problem';
import { TimeAgo } from '../components/TimeAgo';

function eventText(kind: string, detail: Record<string, unknown>, value: number | null): string {
  const text = typeof detail.text === 'string' ? detail.text : '';
  switch (kind) {
    case 'COMMENTED':
      return text;
    case 'OPENED':
      // Opened while a parent was in trouble: the history says so (sql/016); opened again by a person (sql/020).
      return [
        value === null ? '' : `value ${value}`,
        detail.reopened === true ? `re-opened (was ${String(detail.was ?? '').toLowerCase()})` : '',
        typeof detail.reason === 'string' ? `suppressed: ${detail.reason}` : '',
      ]
        .filter(Boolean)
        .join(', ');
    case 'FIRING':
    case 'CLEARED':
      return value === null ? '' : `value ${value}`;
    case 'NOTIFIED':
    case 'NOTIFY_FAILED':
      // A grouping routing rule's notice lists the whole group (sql/018): the history says it came with it.
      return [
        `through ${String(detail.channel ?? '')}`,
        typeof detail.group === 'number' ? `in the notice of group ${detail.group}` : '',
        kind === 'NOTIFY_FAILED' && typeof detail.detail === 'string' ? detail.detail : '',
      ]
        .filter(Boolean)
        .join(', ');
    default: {
      const parts = Object.entries(detail).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
      return parts.join(', ');
    }
  }
}

export function AlertDetailPanel({ id, onChanged }: { id: number; onChanged: () => void }) {
  const principal = usePrincipal();
  const alert = useQuery({
    queryKey: ['alert', id],
    queryFn: ({ signal }) => get<AlertDetail>(`/api/v1/alerts/${id}`, undefined, signal),
  });
  const deliveries = useQuery({
    queryKey: ['alert', id, 'deliveries'],
    queryFn: ({ signal }) => get<DeliveryList>(`/api/v1/alerts/${id}/deliveries`, undefined, signal),
  });
  const [comment, setComment] = useState('');
  const [commentError, setCommentError] = useState<unknown>(null);
  const [sending, setSending] = useState(false);
  const [reopenError, setReopenError] = useState<unknown>(null);

  // An acknowledged or closed alert opened again: notified and escalated from level 1 as a new opening.
  const reopen = async () => {
    setReopenError(null);
    try {
      await post(`/api/v1/alerts/${id}/reopen`, {});
      await alert.refetch();
      onChanged();
    } catch (err) {
      setReopenError(err);
    }
  };

  const send = async (e: FormEvent) => {
    e.preventDefault();
    setSending(true);
    setCommentError(null);
    try {
      await post(`/api/v1/alerts/${id}/comments`, { text: comment });
      setComment('');
      await alert.refetch();
      onChanged();
    } catch (err) {
      setCommentError(err); // the text stays in the box
    } finally {
      setSending(false);
    }
  };

  if (alert.error) return <ProblemMessage error={alert.error} />;
  if (!alert.data) return <p className="muted">Loading…</p>;
  const a = alert.data;
  return (
    <div className="alert-detail" data-testid={`alert-detail-${id}`}>
      <p>
        <strong>{a.summary}</strong> — rule <em>{a.rule.name}</em> ({a.rule.type}), last value {a.last_value ?? '–'}, condition{' '}
        {a.condition}
        {a.assignee_id && <>, assigned{a.assignee_id === principal.id ? ' to you' : ''}</>}
      </p>
      {a.maintenance && (
        <p data-testid="alert-maintenance">
          Opened in maintenance window <em>{a.maintenance.name ?? '(deleted)'}</em>:{' '}
          {a.maintenance.held ? 'not notified until the window ends.' : 'notified when the window ended.'}
        </p>
      )}
      {a.suppressed && (
        <p data-testid="alert-suppressed">
          Suppressed by its parent{' '}
          {a.suppressed.parent_id !== null ? (
            <Link to={`/devices/${a.suppressed.parent_id}`}>{a.suppressed.parent_name}</Link>
          ) : (
            '(deleted)'
          )}{' '}
          ({a.suppressed.reason}): {a.suppressed.held ? 'not notified while the parent is in trouble.' : 'notified once the parent was well.'}
        </p>
      )}
      {a.status !== 'OPEN' && can(principal, 'change') && (
        <p className="row">
          <button type="button" onClick={() => void reopen()}>
            Re-open
          </button>
          <span className="muted">pages again from the first escalation level</span>
          <ProblemMessage error={reopenError} />
        </p>
      )}
      <h3>History</h3>
      <ol className="events">
        {a.events.map((ev, i) => (
          <li key={i}>
            <TimeAgo at={ev.at} /> <strong>{ev.kind.toLowerCase()}</strong>
            {ev.actor && <span className="muted"> by {ev.actor}</span>}{' '}
            <span>{eventText(ev.kind, ev.detail as Record<string, unknown>, ev.value)}</span>
          </li>
        ))}
      </ol>
      {can(principal, 'change') && (
        <form onSubmit={send} className="row">
          <label htmlFor={`comment-${id}`} className="visually-hidden">
            Comment
          </label>
          <textarea
            id={`comment-${id}`}
            rows={2}
            cols={50}
            placeholder="Add a comment"
            value={comment}
            aria-invalid={Boolean(fieldProblem(commentError, 'text'))}
            onChange={(e) => setComment(e.target.value)}
          />
          <button type="submit" disabled={sending || comment.trim() === ''}>
            Comment
          </button>
          <ProblemMessage error={commentError} />
        </form>
      )}
      <h3>Deliveries</h3>
      <ProblemMessage error={deliveries.error} />
      {deliveries.data && deliveries.data.items.length === 0 && <p className="muted">No notification was sent for this alert.</p>}
      {deliveries.data?.items.map((d) => (
        <details key={d.id}>
          <summary>
            {d.channel.name} ({d.channel.type}): {d.event} — {d.status}, {d.attempts}/{d.max_attempts} attempts
            {d.last_error && <span className="problem"> {d.last_error}</span>}
          </summary>
          <table aria-label={`Attempts to ${d.channel.name}`}>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">When</th>
                <th scope="col">Outcome</th>
                <th scope="col">Answer</th>
                <th scope="col">Took</th>
              </tr>
            </thead>
            <tbody>
              {d.attempt_log.map((t) => (
                <tr key={t.attempt}>
                  <td>{t.attempt}</td>
                  <td>
                    <TimeAgo at={t.started_at} />
                  </td>
                  <td>{t.outcome}</td>
                  <td>
                    {t.status_code ?? ''} {t.detail}
                  </td>
                  <td>{t.duration_ms} ms</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      ))}
    </div>
  );
}
