/** The dashboard: sign-in, then the shell (masthead with project switcher and sign-out, navigation) and a page. */
import '@patternfly/react-core/dist/styles/base.css';
import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { Bullseye, Button, Masthead, MastheadBrand, MastheadContent, MastheadMain, Nav, NavGroup, NavItem, Page, PageSidebar, PageSidebarBody, SkipToContent, Spinner, FormSelect, FormSelectOption, Toolbar, ToolbarContent, ToolbarItem } from '@patternfly/react-core';
import { session as sessions, setCsrf, type Session } from './api';
import { closeLive, openLive } from './live';
import { Link, navigate, usePath } from './router';
import { Login } from './pages/Login';
import { ChangePassword } from './pages/ChangePassword';
import { Overview } from './pages/Overview';
import { Instances } from './pages/Instances';
import { InstanceDetail } from './pages/InstanceDetail';
import { Images } from './pages/Images';
import { Flavors } from './pages/Flavors';
import { Keypairs } from './pages/Keypairs';
import { Volumes } from './pages/Volumes';
import { VolumeSnapshots } from './pages/VolumeSnapshots';
import { VolumeBackups } from './pages/VolumeBackups';
import { VolumeGroups } from './pages/VolumeGroups';
import { GroupSnapshots } from './pages/GroupSnapshots';
import { GroupTypes } from './pages/GroupTypes';
import { Networks } from './pages/Networks';
import { Routers } from './pages/Routers';
import { Subnets } from './pages/Subnets';
import { Quotas } from './pages/Quotas';
import { FloatingIps } from './pages/FloatingIps';
import { SecurityGroups } from './pages/SecurityGroups';
import { Hypervisors } from './pages/Hypervisors';
import { Identity } from './pages/Identity';
import { Forbidden } from './pages/Forbidden';

interface NavEntry {
  path: string;
  title: string;
  admin?: boolean;
}

const PROJECT_NAV: NavEntry[] = [
  { path: '/', title: 'Overview' },
  { path: '/instances', title: 'Instances' },
  { path: '/images', title: 'Images' },
  { path: '/volumes', title: 'Volumes' },
  { path: '/volume-snapshots', title: 'Volume snapshots' },
  { path: '/volume-backups', title: 'Volume backups' },
  { path: '/volume-groups', title: 'Volume groups' },
  { path: '/group-snapshots', title: 'Group snapshots' },
  { path: '/networks', title: 'Networks' },
  { path: '/subnets', title: 'Subnets' },
  { path: '/routers', title: 'Routers' },
  { path: '/floating-ips', title: 'Floating IPs' },
  { path: '/security-groups', title: 'Security groups' },
  { path: '/keypairs', title: 'Key pairs' },
  { path: '/flavors', title: 'Flavors' },
];
const ADMIN_NAV: NavEntry[] = [
  { path: '/admin/hypervisors', title: 'Hypervisors', admin: true },
  { path: '/admin/group-types', title: 'Group types', admin: true },
  { path: '/admin/quotas', title: 'Quotas', admin: true },
  { path: '/identity', title: 'Identity', admin: true },
];

function route(path: string, s: Session) {
  const server = /^\/instances\/([^/]+)$/.exec(path);
  if (server) return <InstanceDetail id={decodeURIComponent(server[1])} />;
  const admin = ADMIN_NAV.find((n) => n.path === path);
  if (admin && !s.admin) return <Forbidden />;
  switch (path) {
    case '/':
      return <Overview session={s} />;
    case '/instances':
      return <Instances />;
    case '/images':
      return <Images session={s} />;
    case '/volumes':
      return <Volumes />;
    case '/volume-snapshots':
      return <VolumeSnapshots />;
    case '/volume-backups':
      return <VolumeBackups />;
    case '/volume-groups':
      return <VolumeGroups />;
    case '/group-snapshots':
      return <GroupSnapshots />;
    case '/networks':
      return <Networks />;
    case '/subnets':
      return <Subnets />;
    case '/routers':
      return <Routers />;
    case '/floating-ips':
      return <FloatingIps />;
    case '/security-groups':
      return <SecurityGroups />;
    case '/keypairs':
      return <Keypairs />;
    case '/flavors':
      return <Flavors />;
    case '/admin/hypervisors':
      return <Hypervisors />;
    case '/admin/group-types':
      return <GroupTypes />;
    case '/admin/quotas':
      return <Quotas />;
    case '/identity':
      return <Identity />;
    default:
      return <Forbidden notFound />;
  }
}

function Shell({ s, onSession }: { s: Session; onSession: (s: Session | null, notice?: string) => void }) {
  const path = usePath();
  const title = [...PROJECT_NAV, ...ADMIN_NAV].find((n) => n.path === path)?.title ?? (path.startsWith('/instances/') ? 'Instance' : 'Stratus');
  useEffect(() => {
    document.title = `${title} - Stratus`;
  }, [title]);
  const masthead = (
    <Masthead>
      <MastheadMain>
        <MastheadBrand>
          <span style={{ color: 'var(--pf-t--global--text--color--regular)', fontWeight: 700, fontSize: 20 }}>Stratus</span>
        </MastheadBrand>
      </MastheadMain>
      <MastheadContent>
        <Toolbar isFullHeight>
          <ToolbarContent>
            <ToolbarItem>
              <FormSelect
                aria-label="Project"
                value={s.project?.id ?? ''}
                onChange={(_e, id) => {
                  closeLive();
                  sessions.switchProject(id).then((next) => (setCsrf(next.csrfToken), onSession(next), navigate('/')), () => undefined);
                }}
              >
                {s.projects.map((p) => (
                  <FormSelectOption key={p.id} value={p.id} label={p.name} />
                ))}
              </FormSelect>
            </ToolbarItem>
            <ToolbarItem>
              <span data-testid="user-name">{s.user.name}</span>
            </ToolbarItem>
            <ToolbarItem>
              <ChangePassword onChanged={() => (closeLive(), onSession(null, 'Your password was changed: sign in with the new one.'))} />
            </ToolbarItem>
            <ToolbarItem>
              <Button variant="secondary" onClick={() => sessions.signOut().finally(() => (closeLive(), onSession(null)))}>
                Sign out
              </Button>
            </ToolbarItem>
          </ToolbarContent>
        </Toolbar>
      </MastheadContent>
    </Masthead>
  );
  const item = (n: NavEntry) => (
    <NavItem key={n.path} isActive={n.path === path || (n.path === '/instances' && path.startsWith('/instances/'))}>
      <Link to={n.path}>{n.title}</Link>
    </NavItem>
  );
  const sidebar = (
    <PageSidebar>
      <PageSidebarBody>
        <Nav aria-label="Dashboard">
          <NavGroup title="Project">{PROJECT_NAV.map(item)}</NavGroup>
          {s.admin && <NavGroup title="Admin">{ADMIN_NAV.map(item)}</NavGroup>}
        </Nav>
      </PageSidebarBody>
    </PageSidebar>
  );
  return (
    <Page masthead={masthead} sidebar={sidebar} mainContainerId="main" skipToContent={<SkipToContent href="#main">Skip to content</SkipToContent>}>
      <div key={`${s.project?.id}:${path}`}>{route(path, s)}</div>
    </Page>
  );
}

function App() {
  const [s, setS] = useState<Session | null | undefined>();
  /** What the sign-in form tells the user who comes back to it (a password just changed). */
  const [notice, setNotice] = useState<string>();
  useEffect(() => {
    sessions.get().then(
      (got) => (setCsrf(got.csrfToken), setS(got)),
      () => setS(null),
    );
    const out = () => (closeLive(), setS(null));
    window.addEventListener('stratus:signed-out', out);
    return () => window.removeEventListener('stratus:signed-out', out);
  }, []);
  useEffect(() => {
    if (s) openLive();
  }, [s]);
  if (s === undefined)
    return (
      <Bullseye style={{ height: '100vh' }}>
        <Spinner aria-label="Loading the dashboard" />
      </Bullseye>
    );
  if (s === null) return <Login notice={notice} onSignedIn={(got) => (setCsrf(got.csrfToken), setNotice(undefined), setS(got))} />;
  return <Shell s={s} onSession={(next, why) => (setNotice(why), setS(next))} />;
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
