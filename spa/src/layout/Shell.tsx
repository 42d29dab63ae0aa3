// The frame around every signed-in page: navigation (only what the role may use), who is signed in, the
// theme switch and sign-out.
import { useState } from 'react';
import { NavLink, Outlet, useNavigate } from 'react-router-dom';
import { LiveProvider, useLive } from '../api/live';
import { can, usePrincipal, useSession } from '../auth/session';
import { applyTheme, initialTheme, type Theme } from '../lib/theme';
import styles from './Shell.module.css';

interface NavItem {
  to: string;
  label: string;
  needs?: 'change' | 'administer';
}

const NAV: NavItem[] = [
  { to: '/', label: 'Overview' },
  { to: '/devices', label: 'Devices' },
  { to: '/alerts', label: 'Alerts' },
  { to: '/rules', label: 'Rules' },
  { to: '/channels', label: 'Channels' },
  { to: '/on-call', label: 'On call' },
  { to: '/escalation', label: 'Escalation' },
  { to: '/maintenance', label: 'Maintenance' },
  { to: '/sites', label: 'Sites' },
  { to: '/metric-catalog', label: 'Metrics' }, // /metrics is the server's Prometheus endpoint
  { to: '/users', label: 'Users', needs: 'administer' },
  { to: '/api-keys', label: 'API keys', needs: 'administer' },
  { to: '/audit', label: 'Audit log', needs: 'administer' },
  { to: '/settings', label: 'Settings' },
];

export function Shell() {
  return (
    <LiveProvider>
      <Frame />
    </LiveProvider>
  );
}

// Shows whether the live stream is up (else the pages poll).
function LiveBadge() {
  const { connected } = useLive();
  return (
    <span className={`badge ${connected ? 'status-ONLINE' : 'status-STALE'}`} data-testid="live" title={connected ? 'live updates' : 'reconnecting; refreshing every few seconds'}>
      {connected ? 'live' : 'polling'}
    </span>
  );
}

function Frame() {
  const principal = usePrincipal();
  const { signOut } = useSession();
  const navigate = useNavigate();
  const [theme, setTheme] = useState<Theme>(initialTheme);
  const [menuOpen, setMenuOpen] = useState(false);

  const toggleTheme = () => {
    const next = theme === 'dark' ? 'light' : 'dark';
    applyTheme(next);
    setTheme(next);
  };

  return (
    <div className={styles.shell}>
      <header className={styles.top}>
        <button className={styles.menu} aria-expanded={menuOpen} aria-controls="main-nav" onClick={() => setMenuOpen(!menuOpen)}>
          Menu
        </button>
        <span className={styles.brand}>Pulse</span>
        <span className={styles.spacer} />
        <LiveBadge />
        <span className={styles.who} data-testid="who">
          {principal.name} <span className="muted">({principal.role})</span>
        </span>
        <button onClick={toggleTheme} aria-label={`Switch to the ${theme === 'dark' ? 'light' : 'dark'} theme`}>
          {theme === 'dark' ? 'Light' : 'Dark'} theme
        </button>
        <button
          onClick={async () => {
            await signOut();
            navigate('/sign-in', { replace: true });
          }}
        >
          Sign out
        </button>
      </header>
      <nav id="main-nav" aria-label="Main" className={`${styles.nav} ${menuOpen ? styles.navOpen : ''}`}>
        <ul>
          {NAV.filter((item) => !item.needs || can(principal, item.needs)).map((item) => (
            <li key={item.to}>
              <NavLink to={item.to} end={item.to === '/'} onClick={() => setMenuOpen(false)}>
                {item.label}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <main className={styles.main}>
        <Outlet />
      </main>
    </div>
  );
}
