// The console's live updates: one EventSource per tab on GET /api/v1/stream. Alert and device events
// refresh the queries that show them (the data itself is read through the API, under row-level security);
// readings of the devices on screen go to the charts that watch them. When the stream is down (refused,
// server away) the pages fall back to polling, and it is retried; a reconnect resumes after the last event.
import { useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { url } from './client';

export interface Reading {
  device_id: number;
  metric: string;
  at_us: number;
  value: number;
}
type ReadingListener = (r: Reading) => void;

interface LiveValue {
  connected: boolean;
  // Watches a device's readings while mounted; returns the unwatch.
  watch: (deviceId: number, listener: ReadingListener) => () => void;
}

const LiveContext = createContext<LiveValue>({ connected: false, watch: () => () => {} });

// How often pages refetch what the stream would tell them: rarely while it is up, often while it is down.
export const POLL_LIVE_MS = 30_000;
export const POLL_FALLBACK_MS = 5_000;
const RETRY_MS = 15_000;

export function LiveProvider({ children }: { children: ReactNode }) {
  const client = useQueryClient();
  const [connected, setConnected] = useState(false);
  const listeners = useRef(new Map<number, Set<ReadingListener>>());
  const [devices, setDevices] = useState<string>(''); // sorted ids, the stream's ?devices=
  const lastEventId = useRef<string>('');
  const [attempt, setAttempt] = useState(0);

  const recomputeDevices = useCallback(() => {
    setDevices([...listeners.current.keys()].sort((a, b) => a - b).join(','));
  }, []);

  const watch = useCallback(
    (deviceId: number, listener: ReadingListener) => {
      let set = listeners.current.get(deviceId);
      if (!set) {
        set = new Set();
        listeners.current.set(deviceId, set);
        recomputeDevices();
      }
      set.add(listener);
      return () => {
        const s = listeners.current.get(deviceId);
        if (!s) return;
        s.delete(listener);
        if (s.size === 0) {
          listeners.current.delete(deviceId);
          recomputeDevices();
        }
      };
    },
    [recomputeDevices],
  );

  useEffect(() => {
    const source = new EventSource(url('/api/v1/stream', { devices, last_event_id: lastEventId.current }));
    let retry: ReturnType<typeof setTimeout> | undefined;
    const remember = (e: MessageEvent) => {
      if (e.lastEventId) lastEventId.current = e.lastEventId;
    };
    source.onopen = () => setConnected(true);
    source.onerror = () => {
      // EventSource retries by itself after a dropped connection; a refused one (401, 429) it closes.
      if (source.readyState === EventSource.CLOSED) {
        setConnected(false);
        retry = setTimeout(() => setAttempt((a) => a + 1), RETRY_MS);
      } else {
        setConnected(false);
      }
    };
    source.addEventListener('alert', (e) => {
      remember(e);
      const { alert_id } = JSON.parse(e.data) as { alert_id: number };
      client.invalidateQueries({ queryKey: ['alerts'] });
      client.invalidateQueries({ queryKey: ['alert', alert_id] });
      client.invalidateQueries({ queryKey: ['fleet-summary'] });
    });
    source.addEventListener('device', (e) => {
      remember(e);
      const { device_id } = JSON.parse(e.data) as { device_id: number };
      client.invalidateQueries({ queryKey: ['device', device_id] });
      client.invalidateQueries({ queryKey: ['device-status-history', device_id] });
      client.invalidateQueries({ queryKey: ['devices'] });
      client.invalidateQueries({ queryKey: ['fleet-summary'] });
    });
    source.addEventListener('telemetry', (e) => {
      remember(e);
      const reading = JSON.parse(e.data) as Reading;
      listeners.current.get(reading.device_id)?.forEach((l) => l(reading));
    });
    source.addEventListener('reset', (e) => {
      remember(e);
      client.invalidateQueries();
    });
    return () => {
      clearTimeout(retry);
      source.close();
    };
  }, [client, devices, attempt]);

  const value = useMemo(() => ({ connected, watch }), [connected, watch]);
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}

export function useLive(): LiveValue {
  return useContext(LiveContext);
}

// The refetch interval of a query the stream keeps current.
export function useLiveInterval(): number {
  return useLive().connected ? POLL_LIVE_MS : POLL_FALLBACK_MS;
}
