// The console's routes. Every page but sign-in needs a session; a page the role may not use is not in the
// navigation, and if reached anyway shows the API's 403.
import { lazy, Suspense } from 'react';
import { Route, Routes } from 'react-router-dom';
import { RequireSession } from './auth/session';
import { Shell } from './layout/Shell';
import { NotFound } from './pages/NotFound';
import { Overview } from './pages/Overview';
import { SignIn } from './pages/SignIn';

const Devices = lazy(() => import('./pages/Devices').then((m) => ({ default: m.Devices })));
const Alerts = lazy(() => import('./pages/Alerts').then((m) => ({ default: m.Alerts })));

export function App() {
  return (
    <Suspense fallback={<div className="page-loading">Loading…</div>}>
      <Routes>
        <Route path="/sign-in" element={<SignIn />} />
        <Route
          element={
            <RequireSession>
              <Shell />
            </RequireSession>
          }
        >
          <Route index element={<Overview />} />
          <Route path="devices" element={<Devices />} />
          <Route path="devices/:id" element={<Devices />} />
          <Route path="alerts" element={<Alerts />} />
          <Route path="*" element={<NotFound />} />
        </Route>
      </Routes>
    </Suspense>
  );
}
