// Who is signed in. The session lives in pulsed's HttpOnly cookie; the console keeps only the principal
// (name, role, tenant) and the CSRF token the API hands out with it, in memory. Signed in with OpenID
// Connect there is no server session: the access token, in memory only (api/client.ts), is the credential,
// until it expires; a reload forgets it. When any request finds the session gone (401), or the token
// expires, the console returns to sign-in and, after it, to the page the user was on.
import { useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useMemo, type ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router-dom';
import { del, get, hasBearerToken, isProblem, onSessionLost, post, setBearerToken, setCsrfToken } from '../api/client';
import type { Principal } from '../api/types';

const SESSION_KEY = ['session'] as const;

interface SessionValue {
  principal: Principal | null;
  loading: boolean;
  signIn: (email: string, password: string) => Promise<Principal>;
  // Signs in with an OIDC access token (auth/oidc.ts): the principal pulsed sees in it.
  signInWithToken: (accessToken: string, expiresAtMs: number) => Promise<Principal>;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<SessionValue | null>(null);

async function fetchSession(): Promise<Principal | null> {
  try {
    return await get<Principal>('/api/v1/session');
  } catch (e) {
    if (isProblem(e) && e.status === 401) return null;
    throw e;
  }
}

// Drops every cached answer but the session's own query, which the provider keeps observing (clearing the
// whole cache would leave it watching a query that no longer exists).
function forgetAllButSession(client: QueryClient): void {
  client.removeQueries({ predicate: (q) => q.queryKey[0] !== SESSION_KEY[0] });
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const client = useQueryClient();
  const session = useQuery({ queryKey: SESSION_KEY, queryFn: fetchSession, staleTime: Infinity, retry: 1 });
  const principal = session.data ?? null;
  setCsrfToken(principal?.csrf_token);

  useEffect(
    () =>
      onSessionLost(() => {
        setCsrfToken(undefined);
        client.setQueryData(SESSION_KEY, null);
      }),
    [client],
  );

  const signIn = useCallback(
    async (email: string, password: string) => {
      const p = await post<Principal>('/api/v1/session', { email, password });
      setCsrfToken(p.csrf_token);
      forgetAllButSession(client); // nothing read as someone else stays on screen
      client.setQueryData(SESSION_KEY, p);
      return p;
    },
    [client],
  );

  const signInWithToken = useCallback(
    async (accessToken: string, expiresAtMs: number) => {
      await client.cancelQueries({ queryKey: SESSION_KEY }); // the answer of before, without the token, is moot
      setBearerToken(accessToken, expiresAtMs);
      const p = await get<Principal>('/api/v1/session'); // a refused token is dropped by the client (401)
      forgetAllButSession(client);
      client.setQueryData(SESSION_KEY, p);
      return p;
    },
    [client],
  );

  const signOut = useCallback(async () => {
    try {
      // A bearer token has no server session to end: forgetting it is signing out.
      if (!hasBearerToken()) await del<void>('/api/v1/session');
    } finally {
      setBearerToken(undefined);
      setCsrfToken(undefined);
      forgetAllButSession(client);
      client.setQueryData(SESSION_KEY, null);
    }
  }, [client]);

  const value = useMemo(
    () => ({ principal, loading: session.isPending, signIn, signInWithToken, signOut }),
    [principal, session.isPending, signIn, signInWithToken, signOut],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionValue {
  const v = useContext(SessionContext);
  if (!v) throw new Error('useSession outside SessionProvider');
  return v;
}

// The principal of a page that needs one (inside RequireSession).
export function usePrincipal(): Principal {
  const { principal } = useSession();
  if (!principal) throw new Error('usePrincipal outside RequireSession');
  return principal;
}

const RANK: Record<string, number> = { customer: 1, 'tenant-admin': 2, operator: 3, 'operator-admin': 4 };

// What a role may do, as the API decides it (core/http/api/Api.h, Access): the console offers only that.
export function can(principal: Principal, what: 'change' | 'administer'): boolean {
  const rank = RANK[principal.role] ?? 0;
  if (what === 'change') return rank === 1 || rank === 2 || rank === 4;
  return rank === 2 || rank === 4;
}

export function RequireSession({ children }: { children: ReactNode }) {
  const { principal, loading } = useSession();
  const location = useLocation();
  if (loading) return <div className="page-loading" role="status">Loading…</div>;
  if (!principal) {
    const next = location.pathname + location.search;
    return <Navigate to={`/sign-in${next === '/' ? '' : `?next=${encodeURIComponent(next)}`}`} replace />;
  }
  return <>{children}</>;
}
