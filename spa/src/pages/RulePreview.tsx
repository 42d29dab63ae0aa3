// "This rule would have fired N times in the last 24 hours": the rule as it stands in the form, replayed by
// the server through the rule's own plugin over the stored readings (POST /api/v1/rules/preview), with the
// openings per hour on a chart and the first of them listed. Nothing is saved.
import { useState } from 'react';
import { post } from '../api/client';
import type { RulePreview as Preview } from '../api/types';
import { ProblemMessage } from '../components/Problem';
import { TimeSeriesChart } from '../components/TimeSeriesChart';

const HOUR_S = 3600;

// Openings per hour over the window, one point per hour (empty hours are 0, so the chart shows quiet too).
function perHour(p: Preview): { times: number[]; counts: number[] } {
  const from = Math.floor(Date.parse(p.from) / 1000 / HOUR_S) * HOUR_S;
  const to = Math.ceil(Date.parse(p.to) / 1000 / HOUR_S) * HOUR_S;
  const times: number[] = [];
  for (let t = from; t < to; t += HOUR_S) times.push(t);
  const counts = times.map(() => 0);
  for (const f of p.firings) {
    const i = Math.floor((Date.parse(f.at) / 1000 - from) / HOUR_S);
    if (i >= 0 && i < counts.length) counts[i] = (counts[i] ?? 0) + 1;
  }
  return { times, counts };
}

export function RulePreviewPanel({ body }: { body: () => object }) {
  const [result, setResult] = useState<Preview | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      setResult(await post<Preview>('/api/v1/rules/preview?hours=24', body()));
    } catch (err) {
      setResult(null);
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const chart = result && result.firings.length > 0 ? perHour(result) : null;
  return (
    <section className="panel" aria-label="Rule preview">
      <div className="row">
        <h3>Preview</h3>
        <span className="spacer" />
        <button type="button" onClick={run} disabled={busy}>
          {busy ? 'Replaying…' : 'Preview the last 24 hours'}
        </button>
      </div>
      <ProblemMessage error={error} />
      {result && (
        <>
          <p role="status">
            This rule would have fired <strong>{result.fired}</strong> {result.fired === 1 ? 'time' : 'times'} in the last 24 hours
            {result.cleared > 0 && <>, and cleared {result.cleared}</>} (over {result.readings.toLocaleString()} readings of {result.devices}{' '}
            {result.devices === 1 ? 'device' : 'devices'}
            {result.truncated && ', cut short at the replay limit'}).
          </p>
          {chart && <TimeSeriesChart title="Openings per hour" unit="" times={chart.times} series={[{ label: 'openings', values: chart.counts }]} height={140} />}
          {result.firings.length > 0 && (
            <table aria-label="Preview openings">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Device</th>
                  <th scope="col">Value</th>
                  <th scope="col">Summary</th>
                </tr>
              </thead>
              <tbody>
                {result.firings.slice(0, 10).map((f, i) => (
                  <tr key={i}>
                    <td>{new Date(f.at).toLocaleString()}</td>
                    <td>{f.device_name}</td>
                    <td className="mono">{f.value}</td>
                    <td>{f.summary}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}
