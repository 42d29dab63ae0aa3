// Alert rules: the list, and a form to create or edit one. The rule's own settings are a form rendered from
// its type's JSON Schema (GET /api/v1/plugins), so a third-party rule plugin needs no console change.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { isProblem, post, put, request } from '../api/client';
import { useComponents, useSites } from '../api/queries';
import type { components } from '../api/schema.gen';
import { SEVERITIES, type Rule, type RuleList, type Severity } from '../api/types';
import { get } from '../api/client';
import { can, usePrincipal } from '../auth/session';
import { SeverityBadge } from '../components/Badges';
import { ConfirmButton } from '../components/ConfirmButton';
import { ProblemMessage, fieldProblem, problemText } from '../components/Problem';
import { SchemaForm, configProblemField, defaultsOf, type Config } from '../components/SchemaForm';
import { RulePreviewPanel } from './RulePreview';

type ScopeKind = 'tenant' | 'site' | 'tag' | 'device';

interface Draft {
  id?: string;
  name: string;
  type: string;
  severity: Severity;
  config: Config;
  scope: { kind: ScopeKind; site_id?: string; tag?: string; device_id?: number };
  auto_close: boolean;
  flap_threshold: number;
  flap_window_s: number;
  enabled: boolean;
  escalation_policy_id?: string | null; // null: the tenant's default policy, if any

}

function draftOf(r: Rule): Draft {
  return {
    id: r.id,
    name: r.name,
    type: r.type,
    severity: r.severity,
    config: r.config as Config,
    scope: r.scope as Draft['scope'],
    auto_close: r.auto_close,
    flap_threshold: r.flap_threshold,
    flap_window_s: r.flap_window_s,
    enabled: r.enabled,
    escalation_policy_id: r.escalation_policy_id,
  };
}

export function Rules() {
  const principal = usePrincipal();
  const admin = can(principal, 'administer');
  const rules = useQuery({ queryKey: ['rules'], queryFn: ({ signal }) => get<RuleList>('/api/v1/rules', undefined, signal) });
  const [editing, setEditing] = useState<Draft | null>(null);
  const client = useQueryClient();

  return (
    <section>
      <div className="row">
        <h1>Rules</h1>
        <span className="spacer" />
        {admin && !editing && (
          <button
            className="primary"
            onClick={() =>
              setEditing({ name: '', type: '', severity: 'HIGH', config: {}, scope: { kind: 'tenant' }, auto_close: true, flap_threshold: 3, flap_window_s: 600, enabled: true })
            }
          >
            New rule
          </button>
        )}
      </div>
      {editing && (
        <RuleForm
          draft={editing}
          onDone={() => {
            setEditing(null);
            client.invalidateQueries({ queryKey: ['rules'] });
          }}
        />
      )}
      <ProblemMessage error={rules.error} />
      {rules.data && (
        <div className="panel">
          <table aria-label="Rules">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Severity</th>
                <th scope="col">Scope</th>
                <th scope="col">Settings</th>
                <th scope="col">State</th>
                {admin && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {rules.data.items.map((r) => (
                <tr key={r.id}>
                  <td>{r.name}</td>
                  <td>{r.type}</td>
                  <td>
                    <SeverityBadge severity={r.severity} />
                  </td>
                  <td>{r.scope.kind === 'tenant' ? 'every device' : `${r.scope.kind} ${r.scope.tag ?? r.scope.site_id ?? r.scope.device_id ?? ''}`}</td>
                  <td className="mono">{JSON.stringify(r.config)}</td>
                  <td>{r.enabled ? 'enabled' : 'disabled'}</td>
                  {admin && (
                    <td className="row">
                      <button onClick={() => setEditing(draftOf(r))} aria-label={`Edit ${r.name}`}>
                        Edit
                      </button>
                      <ConfirmButton
                        label={`Delete ${r.name}`}
                        title={`Delete the rule ${r.name}?`}
                        message="Its open alerts stay; no new ones are raised by it."
                        confirmLabel="Delete"
                        danger
                        onConfirm={async () => {
                          await request('DELETE', `/api/v1/rules/${r.id}`);
                          client.invalidateQueries({ queryKey: ['rules'] });
                        }}
                      />
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
          {rules.data.items.length === 0 && <p className="muted">No rules yet.</p>}
        </div>
      )}
    </section>
  );
}

function RuleForm({ draft, onDone }: { draft: Draft; onDone: () => void }) {
  const types = useComponents('rule');
  const sites = useSites();
  const policies = useQuery({
    queryKey: ['escalation-policies'],
    queryFn: ({ signal }) => get<components['schemas']['EscalationPolicyList']>('/api/v1/escalation-policies', undefined, signal),
  });
  const [d, setD] = useState<Draft>(draft);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const type = d.type || types.data?.[0]?.type || '';
  const component = types.data?.find((c) => c.type === type);
  const problemField = isProblem(error) && error.field === 'config' ? configProblemField(error.detail) : undefined;

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body = { ...d, type, id: undefined };
    try {
      if (d.id) await put(`/api/v1/rules/${d.id}`, body);
      else await post('/api/v1/rules', body);
      onDone();
    } catch (err) {
      setError(err); // what was typed stays in the form
    } finally {
      setBusy(false);
    }
  };
  const scope = d.scope;
  return (
    <form className="panel" onSubmit={save} aria-label={d.id ? `Edit ${draft.name}` : 'New rule'}>
      <h2>{d.id ? `Edit ${draft.name}` : 'New rule'}</h2>
      <div className="form-grid">
        <div className="field">
          <label htmlFor="rule-name">Name</label>
          <input id="rule-name" required value={d.name} aria-invalid={Boolean(fieldProblem(error, 'name'))} onChange={(e) => setD({ ...d, name: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor="rule-type">Type</label>
          <select
            id="rule-type"
            value={type}
            disabled={Boolean(d.id)}
            onChange={(e) => {
              const c = types.data?.find((x) => x.type === e.target.value);
              setD({ ...d, type: e.target.value, config: defaultsOf(c?.config_schema) });
            }}
          >
            {(types.data ?? []).map((c) => (
              <option key={c.type} value={c.type}>
                {c.type}: {c.description}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="rule-severity">Severity</label>
          <select id="rule-severity" value={d.severity} onChange={(e) => setD({ ...d, severity: e.target.value as Severity })}>
            {SEVERITIES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="rule-scope">Applies to</label>
          <select id="rule-scope" value={scope.kind} onChange={(e) => setD({ ...d, scope: { kind: e.target.value as ScopeKind } })}>
            <option value="tenant">every device</option>
            <option value="site">the devices of a site</option>
            <option value="tag">the devices with a tag</option>
            <option value="device">one device</option>
          </select>
        </div>
        {scope.kind === 'site' && (
          <div className="field">
            <label htmlFor="rule-site">Site</label>
            <select id="rule-site" required value={scope.site_id ?? ''} onChange={(e) => setD({ ...d, scope: { kind: 'site', site_id: e.target.value } })}>
              <option value="">choose</option>
              {(sites.data?.items ?? []).map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
          </div>
        )}
        {scope.kind === 'tag' && (
          <div className="field">
            <label htmlFor="rule-tag">Tag</label>
            <input id="rule-tag" required value={scope.tag ?? ''} onChange={(e) => setD({ ...d, scope: { kind: 'tag', tag: e.target.value } })} />
          </div>
        )}
        {scope.kind === 'device' && (
          <div className="field">
            <label htmlFor="rule-device">Device id</label>
            <input
              id="rule-device"
              type="number"
              min={1}
              required
              aria-invalid={Boolean(fieldProblem(error, 'scope.device_id'))}
              value={scope.device_id ?? ''}
              onChange={(e) => setD({ ...d, scope: { kind: 'device', device_id: Number(e.target.value) } })}
            />
          </div>
        )}
        <div className="field">
          <label htmlFor="rule-flap-threshold">Flapping: openings</label>
          <input id="rule-flap-threshold" type="number" min={1} max={1000} value={d.flap_threshold} onChange={(e) => setD({ ...d, flap_threshold: Number(e.target.value) })} />
        </div>
        <div className="field">
          <label htmlFor="rule-flap-window">Flapping: within (s)</label>
          <input id="rule-flap-window" type="number" min={1} max={86400} value={d.flap_window_s} onChange={(e) => setD({ ...d, flap_window_s: Number(e.target.value) })} />
        </div>
        <div className="field">
          <label htmlFor="rule-escalation">Escalation policy</label>
          <select
            id="rule-escalation"
            value={d.escalation_policy_id ?? ''}
            aria-invalid={Boolean(fieldProblem(error, 'escalation_policy_id'))}
            onChange={(e) => setD({ ...d, escalation_policy_id: e.target.value || null })}
          >
            <option value="">the tenant's default{(() => {
              const fallback = policies.data?.items.find((p) => p.default);
              return fallback ? ` (${fallback.name})` : ' (none: no paging)';
            })()}</option>
            {(policies.data?.items ?? []).map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="rule-auto-close">Close when it clears</label>
          <input id="rule-auto-close" type="checkbox" checked={d.auto_close} onChange={(e) => setD({ ...d, auto_close: e.target.checked })} />
        </div>
        <div className="field">
          <label htmlFor="rule-enabled">Enabled</label>
          <input id="rule-enabled" type="checkbox" checked={d.enabled} onChange={(e) => setD({ ...d, enabled: e.target.checked })} />
        </div>
      </div>
      <h3>{type} settings</h3>
      {component?.config_schema ? (
        <SchemaForm
          idPrefix="rule-config"
          schema={component.config_schema}
          value={d.config}
          onChange={(config) => setD({ ...d, config })}
          problemField={problemField}
          problemText={problemField ? problemText(error) : undefined}
        />
      ) : (
        <p className="muted">This rule type has no settings.</p>
      )}
      {!problemField && <ProblemMessage error={error} />}
      <RulePreviewPanel body={() => ({ ...d, type, id: undefined, name: d.name || 'preview' })} />
      <div className="form-actions">
        <button className="primary" type="submit" disabled={busy}>
          {d.id ? 'Save' : 'Create'}
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
