// Sign in with e-mail and password (the API's session cookie). A wrong password shows the API's message;
// throttling (429) says when to retry. When pulsed names an OpenID Connect issuer for the console
// (/api/v1/session/providers), "Sign in with <name>" leaves for it (auth/oidc.ts; back on /sign-in/callback).
// After it, the user lands where they were going.
import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router-dom';
import { get } from '../api/client';
import type { SignInProviders } from '../api/types';
import { ProblemMessage } from '../components/Problem';
import { startOidcSignIn } from '../auth/oidc';
import { useSession } from '../auth/session';
import styles from './SignIn.module.css';

// Only a path of this console: never an absolute URL someone put in the link.
export function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

export function SignIn() {
  const { principal, signIn } = useSession();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const next = safeNext(params.get('next'));
  const providers = useQuery({
    queryKey: ['session-providers'],
    queryFn: () => get<SignInProviders>('/api/v1/session/providers'),
    staleTime: Infinity,
  });
  const oidc = providers.data?.oidc ?? null;

  if (principal) return <Navigate to={next} replace />;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(email, password);
      navigate(next, { replace: true });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const signInWithOidc = async () => {
    if (!oidc) return;
    setBusy(true);
    setError(null);
    try {
      await startOidcSignIn(oidc, next); // leaves the page when it succeeds
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <main className={styles.page}>
      <form className={`panel ${styles.form}`} onSubmit={submit} aria-describedby={error ? 'sign-in-problem' : undefined}>
        <h1>Sign in to Pulse</h1>
        <div>
          <label htmlFor="email">E-mail</label>
          <input id="email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </div>
        <div>
          <label htmlFor="password">Password</label>
          <input
            id="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </div>
        <ProblemMessage error={error} id="sign-in-problem" />
        <button className="primary" type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        {oidc && (
          <>
            <p className={styles.or}>or</p>
            <button type="button" onClick={signInWithOidc} disabled={busy}>
              Sign in with {oidc.name}
            </button>
          </>
        )}
      </form>
    </main>
  );
}
