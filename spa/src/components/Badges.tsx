import type { DeviceStatus, Severity } from '../api/types';

export function StatusBadge({ status }: { status: DeviceStatus }) {
  return <span className={`badge status-${status}`}>{status}</span>;
}

export function SeverityBadge({ severity }: { severity: Severity }) {
  return <span className={`badge sev-${severity}`}>{severity}</span>;
}
