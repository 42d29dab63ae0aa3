// A device's telemetry: one chart per metric it reported. The last hour is raw readings, refreshed live;
// 7 and 30 days are hourly rollups (average, with the hour's minimum and maximum).
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { get } from '../api/client';
import { useLive, useLiveInterval } from '../api/live';
import type { DeviceMetricList, TelemetryPage } from '../api/types';
import { ProblemMessage } from '../components/Problem';
import { TimeSeriesChart, type ChartSeries } from '../components/TimeSeriesChart';

const RANGES = {
  '1h': { label: 'Last hour (live)', spanMs: 3600_000, resolution: 'raw' },
  '7d': { label: '7 days (hourly)', spanMs: 7 * 86400_000, resolution: 'hour' },
  '30d': { label: '30 days (hourly)', spanMs: 30 * 86400_000, resolution: 'hour' },
} as const;
type Range = keyof typeof RANGES;

export default function DeviceTelemetry({ deviceId }: { deviceId: number }) {
  const [range, setRange] = useState<Range>('1h');
  const metrics = useQuery({
    queryKey: ['device-metrics', deviceId],
    queryFn: ({ signal }) => get<DeviceMetricList>(`/api/v1/devices/${deviceId}/metrics`, undefined, signal),
  });
  return (
    <>
      <div className="toolbar">
        <div>
          <label htmlFor="telemetry-range">Range</label>
          <select id="telemetry-range" value={range} onChange={(e) => setRange(e.target.value as Range)}>
            {Object.entries(RANGES).map(([k, r]) => (
              <option key={k} value={k}>
                {r.label}
              </option>
            ))}
          </select>
        </div>
      </div>
      <ProblemMessage error={metrics.error} />
      {metrics.data && metrics.data.items.length === 0 && <p className="muted">This device has sent no readings yet.</p>}
      {metrics.data?.items.map((m) => (
        <MetricChart key={m.name} deviceId={deviceId} metric={m.name} unit={m.unit} range={range} />
      ))}
    </>
  );
}

interface Point {
  at: string;
  value?: number;
  min?: number;
  max?: number;
  avg?: number;
}

function MetricChart({ deviceId, metric, unit, range }: { deviceId: number; metric: string; unit: string; range: Range }) {
  const r = RANGES[range];
  const client = useQueryClient();
  const { watch } = useLive();
  const interval = useLiveInterval();
  const key = ['telemetry', deviceId, metric, range];
  // The last hour follows the stream: each reading is appended as it arrives.
  useEffect(() => {
    if (range !== '1h') return;
    return watch(deviceId, (reading) => {
      if (reading.metric !== metric) return;
      client.setQueryData<TelemetryPage>(key, (old) =>
        old ? { ...old, items: [...old.items, { at: new Date(reading.at_us / 1000).toISOString(), value: reading.value }] } : old,
      );
    });
  }, [deviceId, metric, range]); // eslint-disable-line react-hooks/exhaustive-deps -- key derives from these
  const series = useQuery({
    queryKey: key,
    queryFn: ({ signal }) =>
      get<TelemetryPage>(
        `/api/v1/devices/${deviceId}/telemetry`,
        { metric, resolution: r.resolution, from: Date.now() - r.spanMs, limit: 10000 },
        signal,
      ),
    refetchInterval: range === '1h' ? interval : false,
  });
  if (series.error) return <ProblemMessage error={series.error} />;
  if (!series.data) return <p className="muted">Loading {metric}…</p>;
  const points = series.data.items as Point[];
  const times = points.map((p) => Date.parse(p.at) / 1000);
  const lines: ChartSeries[] =
    r.resolution === 'raw'
      ? [{ label: metric, values: points.map((p) => p.value ?? null) }]
      : [
          { label: `${metric} (avg)`, values: points.map((p) => p.avg ?? null) },
          { label: 'min', values: points.map((p) => p.min ?? null), dashed: true },
          { label: 'max', values: points.map((p) => p.max ?? null), dashed: true },
        ];
  return <TimeSeriesChart title={unit ? `${metric} (${unit})` : metric} unit={unit} times={times} series={lines} />;
}
