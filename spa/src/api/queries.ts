// Server state the pages share, one query key per resource so a change made on one page refreshes the
// others that show it.
import { useQuery } from '@tanstack/react-query';
import { get } from './client';
import { useLiveInterval } from './live';
import type { JsonSchema } from '../components/SchemaForm';
import type { AlertList, Device, FleetSummary, MetricList, PluginList, SiteList } from './types';

export const keys = {
  summary: ['fleet-summary'] as const,
  devices: (filter: object) => ['devices', filter] as const,
  device: (id: number) => ['device', id] as const,
  alerts: (filter: object) => ['alerts', filter] as const,
  sites: ['sites'] as const,
  metrics: ['metrics'] as const,
};

export function useFleetSummary() {
  return useQuery({
    queryKey: keys.summary,
    queryFn: ({ signal }) => get<FleetSummary>('/api/v1/fleet/summary', undefined, signal),
    // Readings per minute change with every reading, which the stream does not announce: refetched often.
    refetchInterval: 10_000,
  });
}

export interface AlertFilter {
  status?: string;
  severity?: string;
  site_id?: string;
  device_id?: number;
  limit?: number;
}

export function useAlerts(filter: AlertFilter) {
  const interval = useLiveInterval();
  return useQuery({
    queryKey: keys.alerts(filter),
    queryFn: ({ signal }) => get<AlertList>('/api/v1/alerts', { ...filter }, signal),
    refetchInterval: interval,
  });
}

// A device, live; null asks for nothing (a device's parent, when it has none).
export function useDevice(id: number | null) {
  const interval = useLiveInterval();
  return useQuery({
    queryKey: keys.device(id ?? 0),
    queryFn: ({ signal }) => get<Device>(`/api/v1/devices/${id}`, undefined, signal),
    refetchInterval: interval,
    enabled: id !== null,
  });
}

export function useSites() {
  return useQuery({
    queryKey: keys.sites,
    queryFn: ({ signal }) => get<SiteList>('/api/v1/sites', undefined, signal),
    staleTime: 60_000,
  });
}

export function useMetricCatalog() {
  return useQuery({
    queryKey: keys.metrics,
    queryFn: ({ signal }) => get<MetricList>('/api/v1/metrics', { limit: 200 }, signal),
    staleTime: 60_000,
  });
}


export interface PluginComponent {
  kind: string;
  type: string;
  description: string;
  config_schema: JsonSchema | null;
}

// The components of one kind (rule, sender) the server has loaded, with their config schemas.
export function useComponents(kind: 'rule' | 'sender') {
  return useQuery({
    queryKey: ['plugins'],
    queryFn: ({ signal }) => get<PluginList>('/api/v1/plugins', undefined, signal),
    staleTime: 300_000,
    select: (list) =>
      list.items.flatMap((p) => p.components.filter((c) => c.kind === kind) as PluginComponent[]),
  });
}
