// Provisioning a device, step by step: identity, tags and site, an optional rule, then the credentials: the
// token (shown once), the MQTT login, and curl and mosquitto_pub lines to paste on the device.
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router-dom';
import { post } from '../api/client';
import { useSites } from '../api/queries';
import { SEVERITIES, type NewDevice, type Severity } from '../api/types';
import { ProblemMessage, fieldProblem } from '../components/Problem';
import { SecretOnce } from '../components/SecretOnce';
import { nameProblem, tagProblem } from '../lib/deviceSpec';

const STEPS = ['Identity', 'Tags and site', 'Rule', 'Credentials'] as const;

interface RuleDraft {
  metric: string;
  operator: 'GT' | 'LT';
  threshold: string;
  severity: Severity;
}

export function Provision() {
  const sites = useSites();
  const client = useQueryClient();
  const [step, setStep] = useState(0);
  const [name, setName] = useState('');
  const [tags, setTags] = useState('');
  const [siteId, setSiteId] = useState('');
  const [rule, setRule] = useState<RuleDraft | null>(null);
  const [created, setCreated] = useState<NewDevice | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const tagList = tags.split(',').map((t) => t.trim()).filter(Boolean);
  const localProblem = step === 0 ? (name ? nameProblem(name) : undefined) : step === 1 ? tagProblem(tagList) : undefined;

  const finish = async () => {
    setBusy(true);
    setError(null);
    try {
      const device = await post<NewDevice>('/api/v1/devices', { name, tags: tagList, ...(siteId ? { site_id: siteId } : {}) });
      setCreated(device);
      client.invalidateQueries({ queryKey: ['devices'] });
      if (rule) {
        await post('/api/v1/rules', {
          name: `${rule.metric} on ${name}`,
          type: 'threshold',
          severity: rule.severity,
          scope: { kind: 'device', device_id: device.id },
          config: { metric: rule.metric, operator: rule.operator, threshold: Number(rule.threshold) },
        });
      }
      setStep(3);
    } catch (e) {
      setError(e); // the answers stay; a name in use (409) sends the user back to it
      if (fieldProblem(e, 'name')) setStep(0);
    } finally {
      setBusy(false);
    }
  };

  const origin = window.location.origin;
  return (
    <section>
      <h1>Provision a device</h1>
      <ol className="steps" aria-label="Steps">
        {STEPS.map((s, i) => (
          <li key={s} aria-current={i === step ? 'step' : undefined} className={i === step ? 'current' : i < step ? 'done' : ''}>
            {s}
          </li>
        ))}
      </ol>
      <div className="panel">
        {step === 0 && (
          <div className="field">
            <label htmlFor="provision-name">Device name</label>
            <input id="provision-name" value={name} aria-invalid={Boolean(localProblem || fieldProblem(error, 'name'))} onChange={(e) => setName(e.target.value)} />
            <div className="muted help">Part of the device's MQTT topic and login: letters, digits, _ . -</div>
          </div>
        )}
        {step === 1 && (
          <div className="form-grid">
            <div className="field">
              <label htmlFor="provision-tags">Tags (comma-separated)</label>
              <input id="provision-tags" value={tags} aria-invalid={Boolean(localProblem)} onChange={(e) => setTags(e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor="provision-site">Site</label>
              <select id="provision-site" value={siteId} onChange={(e) => setSiteId(e.target.value)}>
                <option value="">none</option>
                {(sites.data?.items ?? []).map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.name} ({s.time_zone})
                  </option>
                ))}
              </select>
            </div>
          </div>
        )}
        {step === 2 && (
          <>
            <label className="row">
              <input type="checkbox" checked={rule !== null} onChange={(e) => setRule(e.target.checked ? { metric: '', operator: 'GT', threshold: '', severity: 'HIGH' } : null)} />
              Alert when a reading of this device crosses a threshold
            </label>
            {rule && (
              <div className="form-grid">
                <div className="field">
                  <label htmlFor="provision-metric">Metric</label>
                  <input id="provision-metric" value={rule.metric} onChange={(e) => setRule({ ...rule, metric: e.target.value })} />
                </div>
                <div className="field">
                  <label htmlFor="provision-operator">When it is</label>
                  <select id="provision-operator" value={rule.operator} onChange={(e) => setRule({ ...rule, operator: e.target.value as 'GT' | 'LT' })}>
                    <option value="GT">above</option>
                    <option value="LT">below</option>
                  </select>
                </div>
                <div className="field">
                  <label htmlFor="provision-threshold">Threshold</label>
                  <input id="provision-threshold" type="number" step="any" value={rule.threshold} onChange={(e) => setRule({ ...rule, threshold: e.target.value })} />
                </div>
                <div className="field">
                  <label htmlFor="provision-severity">Severity</label>
                  <select id="provision-severity" value={rule.severity} onChange={(e) => setRule({ ...rule, severity: e.target.value as Severity })}>
                    {SEVERITIES.map((s) => (
                      <option key={s}>{s}</option>
                    ))}
                  </select>
                </div>
              </div>
            )}
          </>
        )}
        {step === 3 && created && (
          <>
            <SecretOnce label={`The token of ${created.name}`} value={created.token} />
            <dl className="facts">
              <dt>MQTT user</dt>
              <dd className="mono">{created.mqtt_username}</dd>
              <dt>MQTT password</dt>
              <dd>the token above</dd>
              <dt>MQTT topic</dt>
              <dd className="mono">{created.mqtt_topic}</dd>
            </dl>
            <h3>Send a first reading</h3>
            <pre className="mono paste" data-testid="curl-line">
              {`curl -X POST ${origin}/api/v1/telemetry -H 'Content-Type: application/json' \\\n  -H 'Authorization: Bearer ${created.token}' -d '{"temperature": 21.5}'`}
            </pre>
            <pre className="mono paste" data-testid="mqtt-line">
              {`mosquitto_pub -h ${window.location.hostname} -p <device port> -q 1 \\\n  -u '${created.mqtt_username}' -P '${created.token}' -t '${created.mqtt_topic}' -m '{"temperature": 21.5}'`}
            </pre>
            <p className="muted">The device port is the broker's device listener (scripts/run: 51883).</p>
            <p>
              <Link to={`/devices/${created.id}`}>Open {created.name}</Link>
            </p>
          </>
        )}
        {localProblem && (
          <p className="problem" role="alert">
            {localProblem}
          </p>
        )}
        <ProblemMessage error={error} />
        {step < 3 && (
          <div className="form-actions">
            {step > 0 && <button onClick={() => setStep(step - 1)}>Back</button>}
            {step < 2 && (
              <button className="primary" disabled={!name || Boolean(localProblem)} onClick={() => setStep(step + 1)}>
                Next
              </button>
            )}
            {step === 2 && (
              <button className="primary" disabled={busy || (rule !== null && (!rule.metric || rule.threshold === ''))} onClick={finish}>
                Create the device
              </button>
            )}
          </div>
        )}
      </div>
    </section>
  );
}
