/**
 * Projects, users and role assignments (admin), as Keystone lists them: an admin makes and deletes projects
 * and users, disables and enables them (enabling a user also unlocks it), and grants and removes a user's role
 * on a project. Every write is Keystone's, and its refusal is shown as it said it.
 */
import { useEffect, useState } from 'react';
import { Button, Form, FormGroup, PageSection, Tab, TabTitleText, Tabs, TextInput } from '@patternfly/react-core';
import { os } from '../api';
import { Choice, ConfirmAction, ErrorAlert, FormDialog, Options, PageTitle, ResourceTable, useLoaded, type Named } from '../components';
import { useLiveChanges } from '../live';

interface Entity {
  id: string;
  name: string;
  description?: string;
  enabled?: boolean;
}

interface Assignment {
  id: string;
  role: Named;
  /** The user it is granted to (none for a group's). */
  user?: Named;
  /** Who holds it, in words: the user's or the group's name. */
  holder: string;
  project?: Named;
  /** Where it holds, in words: a project's name, a domain, the system. */
  scope: string;
}

const enc = encodeURIComponent;
const loadRoles = async () => (await os('identity', 'GET', '/roles')).roles as Named[];
const assignmentPath = (a: { project: string; user: string; role: string }) => `/projects/${enc(a.project)}/users/${enc(a.user)}/roles/${enc(a.role)}`;

function CreateProject({ onClose, onMade }: { onClose: () => void; onMade: () => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  return (
    <FormDialog title="Create project" submitLabel="Create project" isDisabled={!name} onClose={onClose} onSubmit={() => os('identity', 'POST', '/projects', { project: { name, description } }).then(onMade)}>
      <Form onSubmit={(e) => e.preventDefault()}>
        <FormGroup label="Name" isRequired fieldId="project-name">
          <TextInput id="project-name" value={name} onChange={(_e, v) => setName(v)} />
        </FormGroup>
        <FormGroup label="Description" fieldId="project-description">
          <TextInput id="project-description" value={description} onChange={(_e, v) => setDescription(v)} />
        </FormGroup>
      </Form>
    </FormDialog>
  );
}

/** A user, with a password and, optionally, a primary project on which it gets a role. */
function CreateUser({ projects, onClose, onMade }: { projects: Entity[] | undefined; onClose: () => void; onMade: () => void }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [project, setProject] = useState('');
  const [role, setRole] = useState('');
  const roles = useLoaded(loadRoles);
  const create = async () => {
    if (project && !role) throw new Error('Choose the role the user gets on its primary project.');
    const user = (await os('identity', 'POST', '/users', { user: { name, password, ...(project ? { default_project_id: project } : {}) } })).user;
    if (project) await os('identity', 'PUT', assignmentPath({ project, user: user.id, role }));
    onMade();
  };
  return (
    <FormDialog title="Create user" submitLabel="Create user" isDisabled={!name || !password} onClose={onClose} onSubmit={create}>
      <ErrorAlert error={roles.error} title="The roles could not be read" />
      <Form onSubmit={(e) => e.preventDefault()}>
        <FormGroup label="User name" isRequired fieldId="user-name">
          <TextInput id="user-name" value={name} onChange={(_e, v) => setName(v)} />
        </FormGroup>
        <FormGroup label="Password" isRequired fieldId="user-password">
          <TextInput id="user-password" type="password" value={password} onChange={(_e, v) => setPassword(v)} autoComplete="new-password" />
        </FormGroup>
        <Options id="user-project" label="Primary project (optional)" value={project} onChange={setProject} options={[['', 'None'], ...(projects ?? []).map((p): [string, string] => [p.id, p.name])]} />
        {project && <Choice id="user-role" label="Role on it" value={role} onChange={setRole} items={roles.value} placeholder="Choose a role" show={(r) => r.name ?? r.id} />}
      </Form>
    </FormDialog>
  );
}

function Grant({ projects, users, onClose, onMade }: { projects: Entity[] | undefined; users: Entity[] | undefined; onClose: () => void; onMade: () => void }) {
  const [user, setUser] = useState('');
  const [project, setProject] = useState('');
  const [role, setRole] = useState('');
  const roles = useLoaded(loadRoles);
  return (
    <FormDialog title="Add role assignment" submitLabel="Add role assignment" isDisabled={!user || !project || !role} onClose={onClose} onSubmit={() => os('identity', 'PUT', assignmentPath({ project, user, role })).then(onMade)}>
      <ErrorAlert error={roles.error} title="The roles could not be read" />
      <Form onSubmit={(e) => e.preventDefault()}>
        <Choice id="grant-user" label="User" value={user} onChange={setUser} items={users} placeholder="Choose a user" show={(u) => u.name} />
        <Choice id="grant-project" label="Project" value={project} onChange={setProject} items={projects} placeholder="Choose a project" show={(p) => p.name} />
        <Choice id="grant-role" label="Role" value={role} onChange={setRole} items={roles.value} placeholder="Choose a role" show={(r) => r.name ?? r.id} />
      </Form>
    </FormDialog>
  );
}

/** Disable or enable a project or user (a PATCH of `enabled`), and delete it once confirmed. */
function EntityActions({ kind, e, reload, fail }: { kind: 'project' | 'user'; e: Entity; reload: () => void; fail: (message: string) => void }) {
  const path = `/${kind}s/${enc(e.id)}`;
  const enabled = e.enabled !== false;
  return (
    <div style={{ display: 'flex', gap: 8 }}>
      <Button variant="secondary" size="sm" onClick={() => void os('identity', 'PATCH', path, { [kind]: { enabled: !enabled } }).then(reload, (err: Error) => fail(err.message))}>
        {enabled ? 'Disable' : 'Enable'}
      </Button>
      <ConfirmAction small label="Delete" question={`Delete the ${kind} ${e.name}?${kind === 'project' ? ' Its servers, volumes and networks must be gone first.' : ''}`} onConfirm={() => os('identity', 'DELETE', path).then(reload)} />
    </div>
  );
}

export function Identity() {
  const [tab, setTab] = useState<string | number>('projects');
  const [projects, setProjects] = useState<Entity[]>();
  const [users, setUsers] = useState<Entity[]>();
  const [assignments, setAssignments] = useState<Assignment[]>();
  const [error, setError] = useState<string>();
  const [making, setMaking] = useState<'project' | 'user' | 'grant'>();
  const [tick, setTick] = useState(0);
  const reload = () => setTick((t) => t + 1);
  useLiveChanges('projects', reload);
  useEffect(() => {
    (async () => {
      const [p, u, a] = await Promise.all([os('identity', 'GET', '/projects'), os('identity', 'GET', '/users'), os('identity', 'GET', '/role_assignments?include_names=true')]);
      setProjects(p.projects);
      setUsers(u.users);
      setAssignments(
        a.role_assignments.map((r: any, i: number) => ({
          id: String(i),
          role: r.role,
          user: r.user,
          holder: r.user?.name ?? r.user?.id ?? (r.group ? `group ${r.group.name ?? r.group.id}` : '—'),
          project: r.scope?.project,
          scope: r.scope?.project?.name ?? (r.scope?.domain ? `domain ${r.scope.domain.name ?? r.scope.domain.id}` : r.scope?.system ? 'system' : '—'),
        })),
      );
      setError(undefined);
    })().catch((e: Error) => setError(e.message));
  }, [tick]);
  const close = () => setMaking(undefined);
  return (
    <>
      <PageTitle title="Identity" />
      <PageSection>
        <ErrorAlert error={error} />
        <Tabs activeKey={tab} onSelect={(_e, k) => setTab(k)} aria-label="Identity">
          <Tab eventKey="projects" title={<TabTitleText>Projects</TabTitleText>}>
            <Button onClick={() => setMaking('project')} style={{ margin: '12px 0' }}>
              Create project
            </Button>
            <ResourceTable
              label="Projects"
              rows={projects}
              columns={[{ title: 'Name', cell: (p) => p.name }, { title: 'ID', cell: (p) => p.id }, { title: 'Description', cell: (p) => p.description || '—' }, { title: 'Enabled', cell: (p) => (p.enabled === false ? 'No' : 'Yes') }]}
              actions={(p) => <EntityActions kind="project" e={p} reload={reload} fail={setError} />}
            />
          </Tab>
          <Tab eventKey="users" title={<TabTitleText>Users</TabTitleText>}>
            <Button onClick={() => setMaking('user')} style={{ margin: '12px 0' }}>
              Create user
            </Button>
            <ResourceTable
              label="Users"
              rows={users}
              columns={[{ title: 'Name', cell: (u) => u.name }, { title: 'ID', cell: (u) => u.id }, { title: 'Enabled', cell: (u) => (u.enabled === false ? 'No' : 'Yes') }]}
              actions={(u) => <EntityActions kind="user" e={u} reload={reload} fail={setError} />}
            />
          </Tab>
          <Tab eventKey="assignments" title={<TabTitleText>Role assignments</TabTitleText>}>
            <Button onClick={() => setMaking('grant')} style={{ margin: '12px 0' }}>
              Add role assignment
            </Button>
            <ResourceTable
              label="Role assignments"
              rows={assignments}
              columns={[{ title: 'User', cell: (a) => a.holder }, { title: 'Role', cell: (a) => a.role.name ?? a.role.id }, { title: 'Scope', cell: (a) => a.scope }]}
              actions={(a) =>
                a.user && a.project ? (
                  <ConfirmAction small label="Remove" question={`Take the role ${a.role.name} on ${a.scope} from ${a.holder}?`} onConfirm={() => os('identity', 'DELETE', assignmentPath({ project: a.project!.id, user: a.user!.id, role: a.role.id })).then(reload)} />
                ) : null
              }
            />
          </Tab>
        </Tabs>
      </PageSection>
      {making === 'project' && <CreateProject onClose={close} onMade={reload} />}
      {making === 'user' && <CreateUser projects={projects} onClose={close} onMade={reload} />}
      {making === 'grant' && <Grant projects={projects} users={users} onClose={close} onMade={reload} />}
    </>
  );
}
