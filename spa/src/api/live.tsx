// The console's live updates: one stream per tab on GET /api/v1/stream, read with fetch() (api/sse.ts) rather
// than EventSource, which cannot send the bearer token of an OIDC sign-in. Alert and device events refresh
// the queries that show them (the data itself is read through the API, under row-level security); readings
// of the devices on screen go to the charts that watch them. When the stream is down (server away, too many
// streams) the pages fall back to polling, and it is retried with a growing wait; a reconnect resumes after
// the last event (Last-Event-ID). Refused (401, 403), it is not retried.
import { useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { authHeaders, refusedWith, url } from './client';
import { readEventStream, type ServerEvent } from './sse';

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
const RETRY_MS = 15_000; // after a 429
const DEFAULT_RETRY_MS = 3_000; // after a dropped stream, until the server's retry: says otherwise
const MAX_BACKOFF_MS = 30_000;

export function LiveProvider({ children }: { children: ReactNode }) {
  const client = useQueryClient();
  const [connected, setConnected] = useState(false);
  const listeners = useRef(new Map<number, Set<ReadingListener>>());
  const [devices, setDevices] = useState<string>(''); // sorted ids, the stream's ?devices=
  const lastEventId = useRef<string>('');

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
    const abort = new AbortController();
    // By event type, what its data (JSON) changes.
    const handlers: Record<string, (data: unknown) => void> = {
      alert: (data) => {
        const { alert_id } = data as { alert_id: number };
        client.invalidateQueries({ queryKey: ['alerts'] });
        client.invalidateQueries({ queryKey: ['alert', alert_id] });
        client.invalidateQueries({ queryKey: ['fleet-summary'] });
      },
      device: (data) => {
        const { device_id } = data as { device_id: number };
        client.invalidateQueries({ queryKey: ['device', device_id] });
        client.invalidateQueries({ queryKey: ['device-status-history', device_id] });
        client.invalidateQueries({ queryKey: ['devices'] });
        client.invalidateQueries({ queryKey: ['fleet-summary'] });
      },
      telemetry: (data) => {
        const reading = data as Reading;
        listeners.current.get(reading.device_id)?.forEach((l) => l(reading));
      },
      reset: () => client.invalidateQueries(),
    };
    const dispatch = (e: ServerEvent) => {
      if (e.lastEventId) lastEventId.current = e.lastEventId;
      const handle = handlers[e.type];
      if (!handle) return; // an event this console does not know yet
      let data: unknown;
      try {
        data = JSON.parse(e.data);
      } catch {
        return;
      }
      handle(data);
    };
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        abort.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });

    // Connects, reads until the stream ends or breaks, waits, and again, until unmounted (abort) or refused.
    const run = async () => {
      let retryMs = DEFAULT_RETRY_MS; // the server's retry: replaces it
      let failures = 0; // in a row: each doubles the wait, up to MAX_BACKOFF_MS
      while (!abort.signal.aborted) {
        let wait: number | undefined;
        try {
          const headers: Record<string, string> = { Accept: 'text/event-stream', ...authHeaders('GET') };
          if (lastEventId.current) headers['Last-Event-ID'] = lastEventId.current; // resume after it
          const response = await fetch(url('/api/v1/stream', { devices }), {
            headers,
            credentials: 'same-origin',
            cache: 'no-store',
            signal: abort.signal,
          });
          if (response.status === 401 || response.status === 403) {
            // Refused: asking again will not help. A lost session returns to sign-in; pages keep polling.
            setConnected(false);
            if (response.status === 401) refusedWith(headers);
            return;
          }
          const type = response.headers.get('Content-Type') ?? '';
          if (response.status === 429) {
            wait = RETRY_MS; // too many streams for this user or the server: a while, then again
          } else if (response.ok && response.body && type.startsWith('text/event-stream')) {
            setConnected(true);
            failures = 0;
            await readEventStream(response.body, { onEvent: dispatch, onRetry: (ms) => (retryMs = ms) });
          } else {
            await response.body?.cancel();
            failures++;
          }
        } catch {
          if (abort.signal.aborted) return; // unmounted, or the devices watched changed: a new run follows
          failures++; // the server is away, or the stream broke
        }
        setConnected(false);
        const backoff = Math.min(retryMs * 2 ** Math.max(failures - 1, 0), MAX_BACKOFF_MS);
        await sleep((wait ?? backoff) * (0.8 + Math.random() * 0.4)); // jitter: tabs do not return in step
      }
    };
    void run();
    return () => abort.abort();
  }, [client, devices]);

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
