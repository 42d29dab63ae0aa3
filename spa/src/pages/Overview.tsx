// The fleet at a glance: devices by status, open alerts by severity, readings per minute, and the alerts
// still open.
import { Link } from 'react-router-dom';
import { useAlerts, useFleetSummary } from '../api/queries';
import { DEVICE_STATUSES, SEVERITIES } from '../api/types';
import { SeverityBadge } from '../components/Badges';
import { ProblemMessage } from '../components/Problem';
import { TimeAgo } from '../components/TimeAgo';
import styles from './Overview.module.css';

export function Overview() {
  const summary = useFleetSummary();
  const alerts = useAlerts({ status: 'OPEN', limit: 10 });
  const s = summary.data;

  return (
    <section>
      <h1>Overview</h1>
      <ProblemMessage error={summary.error} />
      <ul className={styles.kpis} aria-label="Fleet summary">
        {DEVICE_STATUSES.map((status) => (
          <li key={status} className={`panel ${styles.kpi}`}>
            <Link to={`/devices?status=${status}`} className={styles.kpiLink}>
              <span className={`${styles.value} status-${status}`} data-testid={`kpi-${status}`}>
                {s ? s.devices[status] : '–'}
              </span>
              <span className={styles.label}>{status.toLowerCase()} devices</span>
            </Link>
          </li>
        ))}
        <li className={`panel ${styles.kpi}`}>
          <Link to="/alerts" className={styles.kpiLink}>
            <span className={styles.value} data-testid="kpi-open-alerts">
              {s ? s.open_alerts.total : '–'}
            </span>
            <span className={styles.label}>alerts not closed</span>
            <span className={styles.breakdown}>
              {s &&
                SEVERITIES.filter((sev) => s.open_alerts[sev] > 0).map((sev) => (
                  <span key={sev} className={`sev-${sev}`}>
                    {s.open_alerts[sev]} {sev.toLowerCase()}
                  </span>
                ))}
            </span>
          </Link>
        </li>
        <li className={`panel ${styles.kpi}`}>
          <span className={styles.value} data-testid="kpi-readings">
            {s ? s.readings_last_minute.toLocaleString() : '–'}
          </span>
          <span className={styles.label}>readings in the last minute</span>
        </li>
      </ul>

      <h2>Open alerts (not acknowledged yet)</h2>
      <ProblemMessage error={alerts.error} />
      {alerts.data && alerts.data.items.length === 0 && <p className="muted">No open alerts.</p>}
      {alerts.data && alerts.data.items.length > 0 && (
        <div className="panel">
          <table aria-label="Open alerts">
            <thead>
              <tr>
                <th scope="col">Severity</th>
                <th scope="col">Alert</th>
                <th scope="col">Device</th>
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
                  <td>
                    <Link to={`/devices/${a.device.id}`}>{a.device.name}</Link>
                  </td>
                  <td>
                    <TimeAgo at={a.opened_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
