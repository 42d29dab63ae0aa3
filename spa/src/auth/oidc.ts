// Sign-in with OpenID Connect: the authorization code flow with PKCE (RFC 7636, S256) for the console as a
// public client. startOidcSignIn sends the browser to the issuer; the issuer sends it back to
// /sign-in/callback, where finishOidcSignIn checks the answer and trades the code for tokens at the
// issuer's token endpoint (CSP connect-src allows the issuer's origin when pulsed offers OIDC).
// What must survive the round trip (the verifier, state, nonce, the page to return to) waits in
// sessionStorage, this tab only, and is removed when the callback reads it. The access token itself is
// never stored: the caller keeps it in memory (api/client.ts).

export interface OidcProvider {
  issuer: string;
  client_id: string;
  name: string;
}

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  code_challenge_methods_supported?: string[];
}

// What the callback needs from the start of the flow.
interface Pending {
  issuer: string;
  clientId: string;
  redirectUri: string;
  tokenEndpoint: string;
  state: string;
  nonce: string;
  verifier: string;
  next: string;
}

export interface OidcTokens {
  accessToken: string;
  expiresAtMs: number; // the access token's exp (or expires_in from now when it is not a JWT)
  next: string; // the page to return to
}

const PENDING_KEY = 'pulse.oidc.pending';

export class OidcError extends Error {}

function base64url(bytes: Uint8Array): string {
  let text = '';
  bytes.forEach((b) => (text += String.fromCharCode(b)));
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

async function s256(verifier: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
}

// The claims of a compact JWT, unverified: pulsed verifies the access token on every request; here they
// say only when it expires and, for the ID token, whether it answers this sign-in (nonce, aud, iss).
function claimsOf(jwt: string): Record<string, unknown> | undefined {
  const payload = jwt.split('.')[1];
  if (!payload) return undefined;
  try {
    const text = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims === 'object' ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

async function discover(issuer: string): Promise<Discovery> {
  let d: Partial<Discovery>;
  try {
    const r = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, { credentials: 'omit' });
    if (!r.ok) throw new Error(String(r.status));
    d = (await r.json()) as Partial<Discovery>;
  } catch {
    throw new OidcError(`${issuer} cannot be reached for its OpenID configuration; retry later`);
  }
  // OpenID Connect Discovery 1.0, 4.3: the document must name the issuer it was asked for.
  if (d.issuer !== issuer || !d.authorization_endpoint || !d.token_endpoint)
    throw new OidcError(`the OpenID configuration of ${issuer} is not that issuer's`);
  if (d.code_challenge_methods_supported && !d.code_challenge_methods_supported.includes('S256'))
    throw new OidcError(`${issuer} does not support PKCE with S256`);
  return d as Discovery;
}

export function redirectUri(): string {
  return `${window.location.origin}/sign-in/callback`;
}

// Leaves for the issuer's sign-in page; after it, the callback returns to `next`.
export async function startOidcSignIn(provider: OidcProvider, next: string): Promise<void> {
  const d = await discover(provider.issuer);
  const pending: Pending = {
    issuer: provider.issuer,
    clientId: provider.client_id,
    redirectUri: redirectUri(),
    tokenEndpoint: d.token_endpoint,
    state: randomString(),
    nonce: randomString(),
    verifier: randomString(48), // 64 characters, within RFC 7636's 43..128
    next,
  };
  const authorize = new URL(d.authorization_endpoint);
  const params = {
    response_type: 'code',
    client_id: pending.clientId,
    redirect_uri: pending.redirectUri,
    scope: 'openid email',
    state: pending.state,
    nonce: pending.nonce,
    code_challenge: await s256(pending.verifier),
    code_challenge_method: 'S256',
  };
  for (const [k, v] of Object.entries(params)) authorize.searchParams.set(k, v);
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  window.location.assign(authorize.toString());
}

// The issuer's answer on /sign-in/callback (its query string), checked and traded for tokens.
export async function finishOidcSignIn(search: string): Promise<OidcTokens> {
  const answer = new URLSearchParams(search);
  const saved = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY); // one answer per sign-in, whatever it is
  const pending = saved ? (JSON.parse(saved) as Pending) : undefined;
  if (!pending) throw new OidcError('no sign-in was started in this tab; start again');
  if (answer.get('state') !== pending.state)
    throw new OidcError('the answer does not belong to the sign-in started here (state differs); start again');
  const iss = answer.get('iss'); // RFC 9207, when the issuer sends it
  if (iss !== null && iss !== pending.issuer) throw new OidcError('the answer comes from another issuer; start again');
  const error = answer.get('error');
  if (error) throw new OidcError(`the identity provider refused: ${answer.get('error_description') || error}`);
  const code = answer.get('code');
  if (!code) throw new OidcError('the identity provider answered without a code; start again');

  let response: Response;
  try {
    response = await fetch(pending.tokenEndpoint, {
      method: 'POST',
      credentials: 'omit',
      headers: { Accept: 'application/json' },
      // URLSearchParams: sent as application/x-www-form-urlencoded (RFC 6749 4.1.3).
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: pending.redirectUri,
        client_id: pending.clientId,
        code_verifier: pending.verifier,
      }),
    });
  } catch {
    throw new OidcError(`${pending.issuer} cannot be reached to finish signing in; retry`);
  }
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    const why = String(body.error_description ?? body.error ?? `status ${response.status}`);
    throw new OidcError(`the identity provider did not issue a token: ${why}`);
  }
  const accessToken = body.access_token;
  if (typeof accessToken !== 'string' || String(body.token_type).toLowerCase() !== 'bearer')
    throw new OidcError('the identity provider answered without a bearer access token');

  // The ID token must be this sign-in's: the nonce sent, for this client, from this issuer.
  const id = typeof body.id_token === 'string' ? claimsOf(body.id_token) : undefined;
  const aud = id?.aud;
  if (
    !id ||
    id.nonce !== pending.nonce ||
    id.iss !== pending.issuer ||
    !(aud === pending.clientId || (Array.isArray(aud) && aud.includes(pending.clientId)))
  )
    throw new OidcError('the ID token does not answer this sign-in (nonce, audience or issuer differ)');

  const exp = claimsOf(accessToken)?.exp;
  const expiresIn = Number(body.expires_in);
  const lifetimeS = Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 300;
  const expiresAtMs = typeof exp === 'number' ? exp * 1000 : Date.now() + lifetimeS * 1000;
  return { accessToken, expiresAtMs, next: pending.next };
}
