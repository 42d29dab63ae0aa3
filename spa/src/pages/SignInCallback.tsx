// Where the OpenID Connect issuer sends the browser back (/sign-in/callback?code=..&state=..): the answer is
// checked and traded for tokens (auth/oidc.ts), pulsed is asked who the access token names, and the user
// goes on to the page they asked for. A refused, tampered or stale answer is shown, with the way back.
import { useEffect, useState } from 'react';
import { Link, useLocation, useNavigate } from 'react-router-dom';
import { finishOidcSignIn } from '../auth/oidc';
import { useSession } from '../auth/session';
import { ProblemMessage } from '../components/Problem';
import { safeNext } from './SignIn';
import styles from './SignIn.module.css';

// One exchange per answer: a code is single-use, and StrictMode (or a re-render) may run the effect again.
let finishing: { search: string; done: Promise<string> } | undefined;

export function SignInCallback() {
  const { signInWithToken } = useSession();
  const navigate = useNavigate();
  const { search } = useLocation();
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    if (finishing?.search !== search) {
      const done = finishOidcSignIn(search).then(async (t) => {
        await signInWithToken(t.accessToken, t.expiresAtMs);
        return safeNext(t.next);
      });
      finishing = { search, done };
    }
    let current = true;
    finishing.done.then(
      (next) => current && navigate(next, { replace: true }),
      (err: unknown) => current && setError(err),
    );
    return () => {
      current = false;
    };
  }, [search, signInWithToken, navigate]);

  return (
    <main className={styles.page}>
      <div className={`panel ${styles.callback}`}>
        <h1>{error ? 'Signing in did not finish' : 'Signing in…'}</h1>
        {error ? (
          <>
            <ProblemMessage error={error} />
            <p>
              <Link to="/sign-in">Back to sign-in</Link>
            </p>
          </>
        ) : (
          <p role="status">Checking the identity provider's answer.</p>
        )}
      </div>
    </main>
  );
}
