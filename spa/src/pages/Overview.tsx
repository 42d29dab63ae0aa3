// The fleet at a glance: devices by status, open alerts by severity, readings per minute, the alerts still
// open and the devices seen most recently.
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router-dom';
import { get } from '../api/client';
import { useLiveInterval } from '../api/live';
import { keys, useAlerts, useFleetSummary } from '../api/queries';
import { DEVICE_STATUSES, SEVERITIES, type DeviceList } from '../api/types';
import { SeverityBadge, StatusBadge } from '../components/Badges';
import { ProblemMessage } from '../components/Problem';
import { TimeAgo } from '../components/TimeAgo';
import styles from './Overview.module.css';

export function Overview() {
  const summary = useFleetSummary();
  const alerts = useAlerts({ status: 'OPEN', limit: 10 });
  const interval = useLiveInterval();
  const recent = useQuery({
    queryKey: keys.devices({ sort: '-last_seen', limit: 8 }),
    queryFn: ({ signal }) => get<DeviceList>('/api/v1/devices', { sort: '-last_seen', limit: 8 }, signal),
    // Last-seen times move with every reading, which the stream does not announce (like readings/min).
    refetchInterval: Math.min(interval, 15_000),
  });
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

      <h2>Recently seen devices</h2>
      <ProblemMessage error={recent.error} />
      {recent.data && recent.data.items.length === 0 && <p className="muted">No device has reported yet.</p>}
      {recent.data && recent.data.items.length > 0 && (
        <div className="panel">
          <table aria-label="Recently seen devices">
            <thead>
              <tr>
                <th scope="col">Device</th>
                <th scope="col">Status</th>
                <th scope="col">Last seen</th>
              </tr>
            </thead>
            <tbody>
              {recent.data.items.map((d) => (
                <tr key={d.id}>
                  <td>
                    <Link to={`/devices/${d.id}`}>{d.name}</Link>
                  </td>
                  <td>
                    <StatusBadge status={d.status} />
                  </td>
                  <td>{d.last_seen_at ? <TimeAgo at={d.last_seen_at} /> : 'never'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
