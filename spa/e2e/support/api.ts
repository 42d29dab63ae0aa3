// The API as a test sets the scene with it: signed in as someone, with the session's CSRF token.
import { request, type APIRequestContext } from '@playwright/test';

export class ApiClient {
  private constructor(
    readonly context: APIRequestContext,
    private readonly csrf: string,
  ) {}

  static async signIn(baseURL: string, email: string, password: string): Promise<ApiClient> {
    const context = await request.newContext({ baseURL });
    const r = await context.post('/api/v1/session', { data: { email, password } });
    if (r.status() !== 201) throw new Error(`sign-in as ${email}: ${r.status()} ${await r.text()}`);
    return new ApiClient(context, (await r.json()).csrf_token);
  }

  async call<T = unknown>(method: string, path: string, body?: unknown, expected = [200, 201, 204]): Promise<T> {
    const r = await this.context.fetch(path, {
      method,
      data: body,
      headers: method === 'GET' ? {} : { 'X-CSRF-Token': this.csrf },
    });
    if (!expected.includes(r.status())) throw new Error(`${method} ${path}: ${r.status()} ${await r.text()}`);
    return (r.status() === 204 ? undefined : await r.json()) as T;
  }

  get<T = unknown>(path: string) {
    return this.call<T>('GET', path);
  }
  post<T = unknown>(path: string, body: unknown = {}) {
    return this.call<T>('POST', path, body);
  }
  patch<T = unknown>(path: string, body: unknown) {
    return this.call<T>('PATCH', path, body);
  }

  // A body that is not JSON (a CSV import), sent as the given type.
  async postText<T = unknown>(path: string, text: string, contentType: string, timeout = 30_000): Promise<T> {
    const r = await this.context.post(path, { data: text, headers: { 'Content-Type': contentType, 'X-CSRF-Token': this.csrf }, timeout });
    if (r.status() !== 201 && r.status() !== 200) throw new Error(`POST ${path}: ${r.status()} ${await r.text()}`);
    return (await r.json()) as T;
  }

  async dispose() {
    await this.context.dispose();
  }
}

// Readings as a device sends them over HTTP (the ingest_http plugin).
export async function ingest(baseURL: string, token: string, body: unknown): Promise<void> {
  const context = await request.newContext({ baseURL });
  const r = await context.post('/api/v1/telemetry', { data: body, headers: { Authorization: `Bearer ${token}` } });
  await context.dispose();
  if (r.status() !== 200) throw new Error(`ingest: ${r.status()} ${await r.text()}`);
}
