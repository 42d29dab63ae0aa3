// What the specs set up through the API before a person looks: devices by name, readings, alerts.
import { expect } from '@playwright/test';
import { ingest, type ApiClient } from './api';
import type { Pulse } from './pulse';

export interface DeviceRef {
  id: number;
  name: string;
}

export async function deviceByName(admin: ApiClient, name: string): Promise<DeviceRef> {
  const list = await admin.get<{ items: DeviceRef[] }>(`/api/v1/devices?q=${encodeURIComponent(name)}`);
  const d = list.items.find((x) => x.name === name);
  if (!d) throw new Error(`no device named ${name}`);
  return d;
}

// A threshold rule on one device's metric, and readings above it until its alert is open; the alert's id.
// The metric should be one no other rule watches (the demo tenant's rules watch temperature).
export async function raiseAlert(admin: ApiClient, pulse: Pulse, device: string, metric: string, severity = 'HIGH'): Promise<number> {
  const d = await deviceByName(admin, device);
  const rule = `${metric} too high on ${device}`;
  await admin.post('/api/v1/rules', {
    name: rule,
    type: 'threshold',
    severity,
    scope: { kind: 'device', device_id: d.id },
    config: { metric, operator: 'GT', threshold: 80 },
  });
  let id = 0;
  await expect
    .poll(
      async () => {
        await ingest(pulse.baseURL, pulse.deviceTokens[device]!, { [metric]: 95 });
        const alerts = await admin.get<{ items: { id: number; rule: { name: string } }[] }>(`/api/v1/alerts?device_id=${d.id}&status=OPEN`);
        id = alerts.items.find((a) => a.rule.name === rule)?.id ?? 0;
        return id;
      },
      { timeout: 20_000, intervals: [300] },
    )
    .toBeGreaterThan(0);
  return id;
}
