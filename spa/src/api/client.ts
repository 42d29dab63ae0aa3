// The one way the console talks to pulsed: same-origin fetch with the session cookie and the session's CSRF
// token on every change, or, signed in with OpenID Connect, the access token as a bearer token (held here,
// in memory only, never in any storage; no CSRF token then); and every failure turned into an ApiProblem
// (RFC 9457 problem details) that the page shows next to what caused it.

export class ApiProblem extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly field: string | undefined;
  readonly retryAfterS: number | undefined;
  readonly body: unknown;

  constructor(status: number, title: string, detail: string, field?: string, retryAfterS?: number, body?: unknown) {
    super(detail || title);
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.field = field;
    this.retryAfterS = retryAfterS;
    this.body = body;
  }
}

export function isProblem(e: unknown): e is ApiProblem {
  return e instanceof ApiProblem;
}

type Query = Record<string, string | number | boolean | undefined | null>;

export interface RequestOptions {
  query?: Query;
  body?: unknown; // sent as JSON
  text?: string; // sent as is, with contentType
  contentType?: string;
  signal?: AbortSignal;
}

let csrfToken = '';
let bearerToken = '';
let bearerExpiry: ReturnType<typeof setTimeout> | undefined;
const sessionLostListeners = new Set<() => void>();

export function setCsrfToken(token: string | undefined): void {
  csrfToken = token ?? '';
}

// The OIDC access token, until expiresAtMs (its exp): then it is dropped and the session counts as lost, so
// the console returns to sign-in (there are no refresh tokens). undefined drops it.
export function setBearerToken(token: string | undefined, expiresAtMs?: number): void {
  clearTimeout(bearerExpiry);
  bearerExpiry = undefined;
  bearerToken = token ?? '';
  if (bearerToken && expiresAtMs !== undefined) {
    // setTimeout holds at most 2^31-1 ms; a token living longer than 24 days is checked again then.
    const wait = Math.min(Math.max(expiresAtMs - Date.now(), 0), 2 ** 31 - 1);
    const expire = () => (Date.now() >= expiresAtMs ? sessionLost() : setBearerToken(token, expiresAtMs));
    bearerExpiry = setTimeout(expire, wait);
  }
}

export function hasBearerToken(): boolean {
  return bearerToken !== '';
}

// The credentials of a request besides the cookie: the bearer token, or the CSRF token on a change.
export function authHeaders(method: string): Record<string, string> {
  if (bearerToken) return { Authorization: `Bearer ${bearerToken}` };
  return method !== 'GET' && csrfToken ? { 'X-CSRF-Token': csrfToken } : {};
}

// Called when a request that needed the session got 401: the session expired or was revoked, or the
// access token expired or was refused.
export function onSessionLost(listener: () => void): () => void {
  sessionLostListeners.add(listener);
  return () => sessionLostListeners.delete(listener);
}

export function sessionLost(): void {
  setBearerToken(undefined);
  sessionLostListeners.forEach((l) => l());
}

// A 401 to a request sent with these headers. It counts only when they carried the credential held now: a
// request sent before signing in that answers after it says nothing about the new token.
export function refusedWith(sent: Record<string, string>): void {
  if ((sent.Authorization ?? '') === (bearerToken ? `Bearer ${bearerToken}` : '')) sessionLost();
}

export function url(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

async function problemOf(response: Response): Promise<ApiProblem> {
  const retry = Number(response.headers.get('Retry-After') ?? '');
  const retryAfterS = Number.isFinite(retry) && retry > 0 ? retry : undefined;
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  if (body && typeof body === 'object' && 'title' in body) {
    const p = body as { title?: unknown; detail?: unknown; field?: unknown };
    return new ApiProblem(
      response.status,
      String(p.title ?? response.statusText),
      String(p.detail ?? ''),
      typeof p.field === 'string' ? p.field : undefined,
      retryAfterS,
      body,
    );
  }
  return new ApiProblem(response.status, response.statusText || 'Error', `the server answered ${response.status}`, undefined, retryAfterS, body);
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...authHeaders(method) };
  let body: string | undefined;
  if (options.text !== undefined) {
    body = options.text;
    headers['Content-Type'] = options.contentType ?? 'text/plain';
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['Content-Type'] = 'application/json';
  }
  let response: Response;
  try {
    response = await fetch(url(path, options.query), {
      method,
      headers,
      body,
      credentials: 'same-origin',
      signal: options.signal,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiProblem(0, 'Pulse cannot be reached', 'the request did not reach the server; check the connection and retry');
  }
  if (!response.ok) {
    const problem = await problemOf(response);
    // Asking for the session answers 401 when there is none; with a bearer token, any 401 refuses the token.
    if (response.status === 401 && (path !== '/api/v1/session' || headers.Authorization)) refusedWith(headers);
    throw problem;
  }
  if (response.status === 204) return undefined as T;
  const type = response.headers.get('Content-Type') ?? '';
  return (type.includes('json') ? await response.json() : await response.text()) as T;
}

export const get = <T>(path: string, query?: Query, signal?: AbortSignal) => request<T>('GET', path, { query, signal });
export const post = <T>(path: string, body?: unknown) => request<T>('POST', path, { body: body ?? {} });
export const patch = <T>(path: string, body: unknown) => request<T>('PATCH', path, { body });
export const put = <T>(path: string, body: unknown) => request<T>('PUT', path, { body });
export const del = <T>(path: string) => request<T>('DELETE', path);
