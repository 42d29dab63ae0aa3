// The console's routes. Every page but sign-in needs a session; a page the role may not use is not in the
// navigation, and if reached anyway shows the API's 403.
import { lazy, Suspense } from 'react';
import { Route, Routes } from 'react-router-dom';
import { RequireSession } from './auth/session';
import { Shell } from './layout/Shell';
import { NotFound } from './pages/NotFound';
import { Overview } from './pages/Overview';
import { SignIn } from './pages/SignIn';
import { SignInCallback } from './pages/SignInCallback';

const Devices = lazy(() => import('./pages/Devices').then((m) => ({ default: m.Devices })));
const Alerts = lazy(() => import('./pages/Alerts').then((m) => ({ default: m.Alerts })));
const Provision = lazy(() => import('./pages/Provision').then((m) => ({ default: m.Provision })));
const Import = lazy(() => import('./pages/Import').then((m) => ({ default: m.Import })));
const Rules = lazy(() => import('./pages/Rules').then((m) => ({ default: m.Rules })));
const Channels = lazy(() => import('./pages/Channels').then((m) => ({ default: m.Channels })));
const OnCall = lazy(() => import('./pages/OnCall').then((m) => ({ default: m.OnCall })));
const Escalation = lazy(() => import('./pages/Escalation').then((m) => ({ default: m.Escalation })));
const Maintenance = lazy(() => import('./pages/Maintenance').then((m) => ({ default: m.Maintenance })));
const admin = () => import('./pages/Admin');
const Sites = lazy(() => admin().then((m) => ({ default: m.Sites })));
const Users = lazy(() => admin().then((m) => ({ default: m.Users })));
const ApiKeys = lazy(() => admin().then((m) => ({ default: m.ApiKeys })));
const Metrics = lazy(() => admin().then((m) => ({ default: m.Metrics })));
const Audit = lazy(() => admin().then((m) => ({ default: m.Audit })));
const TenantSettings = lazy(() => import('./pages/Settings').then((m) => ({ default: m.TenantSettings })));

export function App() {
  return (
    <Suspense fallback={<div className="page-loading">Loading…</div>}>
      <Routes>
        <Route path="/sign-in" element={<SignIn />} />
        <Route path="/sign-in/callback" element={<SignInCallback />} />
        <Route
          element={
            <RequireSession>
              <Shell />
            </RequireSession>
          }
        >
          <Route index element={<Overview />} />
          <Route path="devices" element={<Devices />} />
          <Route path="devices/new" element={<Provision />} />
          <Route path="devices/import" element={<Import />} />
          <Route path="devices/:id" element={<Devices />} />
          <Route path="alerts" element={<Alerts />} />
          <Route path="rules" element={<Rules />} />
          <Route path="channels" element={<Channels />} />
          <Route path="on-call" element={<OnCall />} />
          <Route path="escalation" element={<Escalation />} />
          <Route path="maintenance" element={<Maintenance />} />
          <Route path="sites" element={<Sites />} />
          <Route path="users" element={<Users />} />
          <Route path="api-keys" element={<ApiKeys />} />
          <Route path="metric-catalog" element={<Metrics />} />
          <Route path="audit" element={<Audit />} />
          <Route path="settings" element={<TenantSettings />} />
          <Route path="*" element={<NotFound />} />
        </Route>
      </Routes>
    </Suspense>
  );
}
