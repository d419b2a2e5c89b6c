/** Projects, users and role assignments (admin), as Keystone lists them. */
import { useEffect, useState } from 'react';
import { PageSection, Tab, TabTitleText, Tabs } from '@patternfly/react-core';
import { os } from '../api';
import { ErrorAlert, PageTitle, ResourceTable } from '../components';
import { useLiveChanges } from '../live';

interface Named {
  id: string;
  name: string;
  description?: string;
  enabled?: boolean;
  domain_id?: string;
}

interface Assignment {
  id: string;
  role: string;
  user: string;
  project: string;
}

export function Identity() {
  const [tab, setTab] = useState<string | number>('projects');
  const [projects, setProjects] = useState<Named[]>();
  const [users, setUsers] = useState<Named[]>();
  const [assignments, setAssignments] = useState<Assignment[]>();
  const [error, setError] = useState<string>();
  const [tick, setTick] = useState(0);
  useLiveChanges('projects', () => setTick((t) => t + 1));
  useEffect(() => {
    (async () => {
      const [p, u, a] = await Promise.all([os('identity', 'GET', '/projects'), os('identity', 'GET', '/users'), os('identity', 'GET', '/role_assignments?include_names=true')]);
      setProjects(p.projects);
      setUsers(u.users);
      setAssignments(
        a.role_assignments.map((r: any, i: number) => ({ id: String(i), role: r.role?.name ?? r.role?.id, user: r.user?.name ?? r.user?.id ?? r.group?.name ?? '—', project: r.scope?.project?.name ?? (r.scope?.domain ? `domain ${r.scope.domain.name ?? r.scope.domain.id}` : r.scope?.system ? 'system' : '—') })),
      );
    })().catch((e: Error) => setError(e.message));
  }, [tick]);
  return (
    <>
      <PageTitle title="Identity" />
      <PageSection>
        <ErrorAlert error={error} />
        <Tabs activeKey={tab} onSelect={(_e, k) => setTab(k)} aria-label="Identity">
          <Tab eventKey="projects" title={<TabTitleText>Projects</TabTitleText>}>
            <ResourceTable label="Projects" rows={projects} columns={[{ title: 'Name', cell: (p) => p.name }, { title: 'ID', cell: (p) => p.id }, { title: 'Description', cell: (p) => p.description || '—' }, { title: 'Enabled', cell: (p) => (p.enabled === false ? 'No' : 'Yes') }]} />
          </Tab>
          <Tab eventKey="users" title={<TabTitleText>Users</TabTitleText>}>
            <ResourceTable label="Users" rows={users} columns={[{ title: 'Name', cell: (u) => u.name }, { title: 'ID', cell: (u) => u.id }, { title: 'Enabled', cell: (u) => (u.enabled === false ? 'No' : 'Yes') }]} />
          </Tab>
          <Tab eventKey="assignments" title={<TabTitleText>Role assignments</TabTitleText>}>
            <ResourceTable label="Role assignments" rows={assignments} columns={[{ title: 'User', cell: (a) => a.user }, { title: 'Role', cell: (a) => a.role }, { title: 'Scope', cell: (a) => a.project }]} />
          </Tab>
        </Tabs>
      </PageSection>
    </>
  );
}
