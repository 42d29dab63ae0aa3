// The tenant's own settings: the thresholds its devices go STALE and OFFLINE by when they have none of their
// own (GET/PATCH /api/v1/settings). Tenant-admins change them; everyone else reads them. The server's 422
// (stale not below offline, or a device of its own thresholds that would clash) shows beside the field it
// names, and what was typed stays.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { get, isProblem, patch } from '../api/client';
import type { components } from '../api/schema.gen';
import { can, usePrincipal } from '../auth/session';
import { ProblemMessage, fieldProblem } from '../components/Problem';
import styles from './Settings.module.css';

type TenantSettings = components['schemas']['TenantSettings'];
type Field = keyof TenantSettings;

const SETTINGS_KEY = ['settings'] as const;
const MAX_S = 2592000; // 30 days, as the API takes it

// 90 → "1 min 30 s", 7200 → "2 h", for the hint beside a number of seconds.
function friendlyDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds <= 0) return '';
  const parts: string[] = [];
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  if (d) parts.push(`${d} d`);
  if (h) parts.push(`${h} h`);
  if (m) parts.push(`${m} min`);
  if (s) parts.push(`${s} s`);
  return parts.join(' ');
}

export function TenantSettings() {
  const principal = usePrincipal();
  const admin = can(principal, 'administer');
  const settings = useQuery({ queryKey: SETTINGS_KEY, queryFn: ({ signal }) => get<TenantSettings>('/api/v1/settings', undefined, signal) });
  return (
    <section>
      <h1>Settings</h1>
      <ProblemMessage error={settings.error} />
      {settings.data && <ThresholdsForm saved={settings.data} editable={admin} />}
    </section>
  );
}

const FIELDS: { field: Field; id: string; label: string; help: string }[] = [
  {
    field: 'default_stale_after_s',
    id: 'settings-stale',
    label: 'Stale after (seconds)',
    help: 'A device that has sent nothing for this long shows as STALE.',
  },
  {
    field: 'default_offline_after_s',
    id: 'settings-offline',
    label: 'Offline after (seconds)',
    help: 'A device that has sent nothing for this long shows as OFFLINE; longer than stale.',
  },
];

function ThresholdsForm({ saved, editable }: { saved: TenantSettings; editable: boolean }) {
  const client = useQueryClient();
  const [values, setValues] = useState<Record<Field, string>>({
    default_stale_after_s: String(saved.default_stale_after_s),
    default_offline_after_s: String(saved.default_offline_after_s),
  });
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const changed = FIELDS.filter(({ field }) => Number(values[field]) !== saved[field]);
  const placed = isProblem(error) && FIELDS.some(({ field }) => field === error.field);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!changed.length) return;
    setBusy(true);
    setError(null);
    setDone(false);
    // Only what changed: the server names the field that was sent when the two clash.
    const body = Object.fromEntries(changed.map(({ field }) => [field, Number(values[field])]));
    try {
      const next = await patch<TenantSettings>('/api/v1/settings', body);
      setDone(true);
      client.setQueryData(SETTINGS_KEY, next);
    } catch (err) {
      setError(err); // the typed values stay
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="panel" onSubmit={save} aria-label="Device thresholds">
      <h2>Device thresholds</h2>
      <p className="muted">
        The defaults for every device of the tenant; a device with thresholds of its own keeps them{editable ? '' : '. Only a tenant-admin can change these'}.
      </p>
      <div className="form-grid">
        {FIELDS.map(({ field, id, label, help }) => {
          const problem = fieldProblem(error, field);
          const hint = friendlyDuration(Number(values[field]));
          return (
            <div key={field} className="field">
              <label htmlFor={id}>{label}</label>
              <input
                id={id}
                type="number"
                inputMode="numeric"
                required
                min={1}
                max={MAX_S}
                step={1}
                readOnly={!editable}
                value={values[field]}
                aria-invalid={Boolean(problem)}
                aria-describedby={[`${id}-hint`, `${id}-help`, problem ? `${id}-problem` : ''].filter(Boolean).join(' ')}
                onChange={(e) => {
                  setValues({ ...values, [field]: e.target.value });
                  setDone(false);
                }}
              />
              <div id={`${id}-hint`} className={`muted help ${styles.hint}`} data-testid={`${id}-hint`}>
                {hint ? `= ${hint}` : ' '}
              </div>
              <div id={`${id}-help`} className="muted help">
                {help}
              </div>
              {problem && (
                <div id={`${id}-problem`} className="field-problem" role="alert">
                  {problem}
                </div>
              )}
            </div>
          );
        })}
      </div>
      {!placed && <ProblemMessage error={error} />}
      {editable && (
        <div className="form-actions">
          <button className="primary" type="submit" disabled={busy || !changed.length}>
            Save
          </button>
          <button
            type="button"
            disabled={busy || !changed.length}
            onClick={() => {
              setValues({
                default_stale_after_s: String(saved.default_stale_after_s),
                default_offline_after_s: String(saved.default_offline_after_s),
              });
              setError(null);
            }}
          >
            Undo changes
          </button>
          <span role="status" className="muted">
            {done ? 'Saved.' : ''}
          </span>
        </div>
      )}
    </form>
  );
}
