// Bulk import: a CSV (name,tags,site) previewed in the browser with every problem by line, then submitted
// all or nothing; the server's own problems, by line, land in the same preview. The tokens of the devices
// created are shown once, with a download.
import { useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { isProblem, request } from '../api/client';
import { useSites } from '../api/queries';
import type { NewDevice } from '../api/types';
import { ProblemMessage } from '../components/Problem';
import { parseCsv } from '../lib/csv';
import { nameProblem, tagProblem } from '../lib/deviceSpec';

interface Row {
  line: number;
  name: string;
  tags: string[];
  site: string;
  problems: string[];
}

interface ServerProblem {
  line: number;
  field: string;
  message: string;
}

export function Import() {
  const sites = useSites();
  const client = useQueryClient();
  const [fileName, setFileName] = useState('');
  const [text, setText] = useState('');
  const [serverProblems, setServerProblems] = useState<ServerProblem[]>([]);
  const [result, setResult] = useState<NewDevice[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const { header, rows } = useMemo(() => {
    const lines = parseCsv(text);
    const head = lines[0]?.fields.map((f) => f.trim().toLowerCase()) ?? [];
    const known = new Set((sites.data?.items ?? []).flatMap((s) => [s.id, s.name]));
    const seen = new Map<string, number>();
    const body: Row[] = lines.slice(1).map(({ line, fields }) => {
      const get = (col: string) => (head.indexOf(col) >= 0 ? (fields[head.indexOf(col)] ?? '').trim() : '');
      const name = get('name');
      const tags = get('tags') ? get('tags').split(';').map((t) => t.trim()) : [];
      const site = get('site');
      const problems = [nameProblem(name), tagProblem(tags)].filter((p): p is string => Boolean(p));
      if (site && !known.has(site)) problems.push(`no site named '${site}'`);
      if (seen.has(name)) problems.push(`the name is also on line ${seen.get(name)}`);
      else seen.set(name, line);
      return { line, name, tags, site, problems };
    });
    return { header: head, rows: body };
  }, [text, sites.data]);

  const headerProblem =
    text && !(header[0] === 'name' && header.every((h) => ['name', 'tags', 'site'].includes(h))) ? 'the first line must be the header name,tags,site' : undefined;
  const problemsOf = (r: Row) => [...r.problems, ...serverProblems.filter((p) => p.line === r.line).map((p) => `${p.field}: ${p.message}`)];
  const problemCount = rows.reduce((n, r) => n + (problemsOf(r).length ? 1 : 0), 0);

  const submit = async () => {
    setBusy(true);
    setError(null);
    setServerProblems([]);
    try {
      const r = await request<{ imported: number; items: NewDevice[] }>('POST', '/api/v1/devices/import', { text, contentType: 'text/csv' });
      setResult(r.items);
      client.invalidateQueries({ queryKey: ['devices'] });
    } catch (e) {
      const errors = isProblem(e) ? (e.body as { errors?: ServerProblem[] } | undefined)?.errors : undefined;
      if (errors?.length) setServerProblems(errors);
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const download = () => {
    const csv = 'name,mqtt_username,token\n' + (result ?? []).map((d) => `${d.name},${d.mqtt_username},${d.token}`).join('\n') + '\n';
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
    a.download = 'device-tokens.csv';
    a.click();
    URL.revokeObjectURL(a.href);
  };

  if (result)
    return (
      <section>
        <h1>Import devices</h1>
        <p role="status">
          {result.length} devices imported. Their tokens are shown once: <button onClick={download}>Download the tokens</button>
        </p>
        <div className="panel">
          <table aria-label="Imported devices">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">MQTT user</th>
                <th scope="col">Token</th>
              </tr>
            </thead>
            <tbody>
              {result.map((d) => (
                <tr key={d.id}>
                  <td>{d.name}</td>
                  <td className="mono">{d.mqtt_username}</td>
                  <td className="mono">{d.token}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    );

  return (
    <section>
      <h1>Import devices</h1>
      <p className="muted">
        A CSV file with the header <code className="mono">name,tags,site</code>: tags separated by <code>;</code>, the site by name or id.
        Nothing is imported unless every line can be.
      </p>
      <div className="toolbar">
        <div>
          <label htmlFor="import-file">CSV file</label>
          <input
            id="import-file"
            type="file"
            accept=".csv,text/csv"
            onChange={async (e) => {
              const f = e.target.files?.[0];
              setResult(null);
              setServerProblems([]);
              setError(null);
              setFileName(f?.name ?? '');
              setText(f ? await f.text() : '');
            }}
          />
        </div>
        {text && !headerProblem && (
          <button className="primary" onClick={submit} disabled={busy || problemCount > 0 || rows.length === 0}>
            Import {rows.length} devices
          </button>
        )}
      </div>
      {headerProblem && (
        <p className="problem" role="alert">
          {headerProblem}
        </p>
      )}
      {text && !headerProblem && (
        <p role="status" data-testid="import-summary">
          {fileName}: {rows.length} devices, {problemCount ? `${problemCount} with problems` : 'no problem found'}
        </p>
      )}
      <ProblemMessage error={serverProblems.length ? null : error} />
      {rows.length > 0 && !headerProblem && (
        <div className="panel">
          <table aria-label="Preview">
            <thead>
              <tr>
                <th scope="col">Line</th>
                <th scope="col">Name</th>
                <th scope="col">Tags</th>
                <th scope="col">Site</th>
                <th scope="col">Problems</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => {
                const problems = problemsOf(r);
                return (
                  <tr key={r.line} data-testid={`line-${r.line}`}>
                    <td>{r.line}</td>
                    <td>{r.name}</td>
                    <td>{r.tags.join(', ')}</td>
                    <td>{r.site}</td>
                    <td className={problems.length ? 'problem' : 'muted'}>{problems.length ? problems.join('; ') : 'ok'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
