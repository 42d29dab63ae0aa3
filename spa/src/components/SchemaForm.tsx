// A form for a plugin's config, rendered from its JSON Schema (GET /api/v1/plugins), so a third-party
// rule or sender gets a form without console changes. Covers what config schemas use: objects of strings
// (enum: a select; writeOnly: a secret, shown as *** and kept unless retyped), numbers and integers (with
// their bounds), booleans, and arrays of strings (one per line). The server validates the result again;
// its problem names the field (`/url: ...`), shown at the field.
import type { ChangeEvent } from 'react';

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  description?: string;
  title?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  writeOnly?: boolean;
  items?: JsonSchema;
  examples?: unknown[];
  'x-order'?: number; // where an optional setting goes in the form; unnumbered ones follow by name
}

export type Config = Record<string, unknown>;

const SECRET_MASK = '***';

function typeOf(s: JsonSchema): string {
  const t = Array.isArray(s.type) ? s.type.find((x) => x !== 'null') : s.type;
  return t ?? 'string';
}

// The config a new form starts from: each property's default, if it has one.
export function defaultsOf(schema: JsonSchema | null | undefined): Config {
  const out: Config = {};
  for (const [k, p] of Object.entries(schema?.properties ?? {})) if (p.default !== undefined) out[k] = p.default;
  return out;
}

interface Props {
  idPrefix: string;
  schema: JsonSchema;
  value: Config;
  onChange: (next: Config) => void;
  problemField?: string; // the field the server's problem names (without the leading /)
  problemText?: string;
}

export function SchemaForm({ idPrefix, schema, value, onChange, problemField, problemText }: Props) {
  const required = new Set(schema.required ?? []);
  const set = (key: string, v: unknown) => {
    const next = { ...value };
    if (v === undefined || v === '') delete next[key];
    else next[key] = v;
    onChange(next);
  };
  // Required settings first, in the schema's order; then the optional ones by their x-order (the server hands
  // the properties over sorted by name, which puts a relay's port after its password).
  const rank = (k: string) => schema.properties?.[k]?.['x-order'] ?? Number.MAX_SAFE_INTEGER;
  const optional = Object.keys(schema.properties ?? {})
    .filter((k) => !required.has(k))
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const order = [...(schema.required ?? []), ...optional];
  return (
    <div className="schema-form">
      {order.flatMap((key) => (schema.properties?.[key] ? [[key, schema.properties[key]] as const] : [])).map(([key, p]) => {
        const id = `${idPrefix}-${key}`;
        const t = typeOf(p);
        const invalid = problemField === key;
        const help = p.description ? `${id}-help` : undefined;
        const label = `${p.title ?? key}${required.has(key) ? '' : ' (optional)'}`;
        const common = {
          id,
          'aria-invalid': invalid,
          'aria-describedby': [help, invalid ? `${id}-problem` : undefined].filter(Boolean).join(' ') || undefined,
        };
        let input;
        if (p.enum) {
          input = (
            <select {...common} value={String(value[key] ?? '')} onChange={(e) => set(key, e.target.value)} required={required.has(key)}>
              {!required.has(key) && <option value="">(default)</option>}
              {p.enum.map((o) => (
                <option key={String(o)} value={String(o)}>
                  {String(o)}
                </option>
              ))}
            </select>
          );
        } else if (t === 'boolean') {
          input = <input {...common} type="checkbox" checked={Boolean(value[key] ?? p.default)} onChange={(e) => set(key, e.target.checked)} />;
        } else if (t === 'number' || t === 'integer') {
          input = (
            <input
              {...common}
              type="number"
              step={t === 'integer' ? 1 : 'any'}
              min={p.minimum}
              max={p.maximum}
              required={required.has(key)}
              value={value[key] === undefined ? '' : String(value[key])}
              onChange={(e: ChangeEvent<HTMLInputElement>) => set(key, e.target.value === '' ? undefined : Number(e.target.value))}
            />
          );
        } else if (t === 'array') {
          input = (
            <textarea
              {...common}
              rows={3}
              value={Array.isArray(value[key]) ? (value[key] as unknown[]).join('\n') : ''}
              onChange={(e) => set(key, e.target.value.split('\n').filter((line) => line.trim() !== ''))}
            />
          );
        } else {
          const secret = p.writeOnly === true;
          input = (
            <input
              {...common}
              type={secret ? 'password' : 'text'}
              autoComplete={secret ? 'new-password' : 'off'}
              required={required.has(key) && value[key] !== SECRET_MASK}
              maxLength={p.maxLength}
              placeholder={secret && value[key] === SECRET_MASK ? 'stored; type to replace' : p.examples ? '' : undefined}
              value={secret && value[key] === SECRET_MASK ? '' : String(value[key] ?? '')}
              onChange={(e) => set(key, e.target.value === '' && secret ? SECRET_MASK : e.target.value)}
            />
          );
        }
        return (
          <div key={key} className="field">
            <label htmlFor={id}>{label}</label>
            {input}
            {p.description && (
              <div id={help} className="muted help">
                {p.description}
              </div>
            )}
            {invalid && (
              <div id={`${id}-problem`} className="field-problem" role="alert">
                {problemText}
              </div>
            )}
          </div>
        );
      })}
    </div>
  );
}

// The field a config problem names: the API says "config" as the field and "/url: ..." (or "config: /url:
// ...") in the detail.
export function configProblemField(detail: string | undefined): string | undefined {
  const m = /^(?:config: )?\/([A-Za-z0-9_]+)\b/.exec(detail ?? '');
  return m?.[1];
}
