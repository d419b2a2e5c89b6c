/**
 * /v3/credentials and the EC2 credentials (/v3/users/{id}/credentials/OS-EC2): blobs users keep in Keystone
 * (an EC2 credential is one whose blob holds an access and a secret key). Each is a Secret in stratus-system,
 * owned by its User (it goes with the user), since a blob is secret material; admins see all, users their own.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { KubeClient } from '@stratus/runtime';
import { SECRETS, SYSTEM_NAMESPACE, controllerRef, openstackId, type Secret, type User } from '../resources.js';
import { isAdmin, type AuthContext } from './auth.js';
import { API_FIELD_MANAGER, committed, entity, gone, optionalString } from './common.js';
import type { IdentityDirectory } from './directory.js';
import { badRequest, forbidden, notFound } from './errors.js';
import type { Router } from './router.js';

/** On a credential's Secret: the object name of the User it belongs to. */
export const API_CREDENTIAL_LABEL = 'identity.stratus.io/api-credential-of';
const EC2 = 'ec2';

interface Credential {
  id: string;
  userId: string;
  projectId?: string;
  type: string;
  blob: string;
}

const secretName = (id: string) => `credential-${id}`;
const decode = (v: string | undefined) => (v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8'));
const fromSecret = (s: Secret): Credential => ({ id: decode(s.data?.id)!, userId: decode(s.data?.userId)!, projectId: decode(s.data?.projectId) || undefined, type: decode(s.data?.type)!, blob: decode(s.data?.blob)! });
/** Keystone names an EC2 credential by the SHA-256 of its access key, others by a random ID. */
const idFor = (type: string, blob: string) => (type === EC2 ? createHash('sha256').update(String(ec2Blob(blob)?.access ?? blob)).digest('hex') : randomBytes(16).toString('hex'));
function ec2Blob(blob: string): { access?: string; secret?: string } | undefined {
  try {
    return JSON.parse(blob);
  } catch {
    return undefined;
  }
}

export function credentialRoutes(router: Router, dir: IdentityDirectory, client: KubeClient) {
  const all = () => dir.secrets.all().filter((s) => s.metadata.labels?.[API_CREDENTIAL_LABEL] && !s.metadata.deletionTimestamp).map(fromSecret);
  const find = (id: string, auth: AuthContext) => {
    const c = all().find((x) => x.id === id);
    if (!c || (!isAdmin(auth) && c.userId !== openstackId(auth.user.metadata.uid))) throw notFound('credential', id);
    return c;
  };
  /** The user a credential is for: oneself, or anyone for an admin. */
  const ownerFor = (userId: unknown, auth: AuthContext): User => {
    if (typeof userId !== 'string' || !userId) throw badRequest("Invalid input for field 'credential.user_id': a user ID is required.");
    const user = dir.users.require(userId, 'user');
    if (!isAdmin(auth) && user.metadata.uid !== auth.user.metadata.uid) throw forbidden('You may only keep credentials of your own.');
    return user;
  };
  const view = (c: Credential, base: string) => ({ id: c.id, user_id: c.userId, project_id: c.projectId ?? null, type: c.type, blob: c.blob, links: { self: `${base}/credentials/${c.id}` } });
  const ec2View = (c: Credential, base: string) => {
    const b = ec2Blob(c.blob) ?? {};
    return { user_id: c.userId, tenant_id: c.projectId ?? null, access: b.access, secret: b.secret, trust_id: null, links: { self: `${base}/users/${c.userId}/credentials/OS-EC2/${b.access}` } };
  };

  const store = async (user: User, c: Credential) => {
    if (all().some((x) => x.id === c.id)) throw badRequest(`A credential with ID ${c.id} exists already.`);
    const enc = (v: string | undefined) => Buffer.from(v ?? '').toString('base64');
    const body: Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: secretName(c.id), namespace: SYSTEM_NAMESPACE, labels: { [API_CREDENTIAL_LABEL]: user.metadata.name }, ownerReferences: [{ ...controllerRef(user), controller: false }] },
      type: 'Opaque',
      data: { id: enc(c.id), userId: enc(c.userId), projectId: enc(c.projectId), type: enc(c.type), blob: enc(c.blob) },
    };
    await committed(dir.secrets, client.create(SECRETS, body, API_FIELD_MANAGER), 'credential');
  };
  const remove = async (c: Credential) => {
    await client.delete(SECRETS, SYSTEM_NAMESPACE, secretName(c.id));
    await gone(dir.secrets, secretName(c.id), SYSTEM_NAMESPACE);
  };

  router.on('GET', '/credentials', (req) => {
    const q = req.query;
    const mine = openstackId(req.auth.user.metadata.uid);
    const credentials = all()
      .filter((c) => isAdmin(req.auth) || c.userId === mine)
      .filter((c) => (!q.has('user_id') || c.userId === q.get('user_id')) && (!q.has('type') || c.type === q.get('type')))
      .map((c) => view(c, req.base));
    return { status: 200, body: { credentials, links: { self: `${req.base}/credentials`, next: null, previous: null } } };
  });
  router.on('GET', '/credentials/:id', (req) => ({ status: 200, body: { credential: view(find(req.params.id, req.auth), req.base) } }));
  router.on('POST', '/credentials', async (req) => {
    const e = entity(req.body, 'credential');
    const user = ownerFor(e.user_id, req.auth);
    const type = optionalString(e, 'type', 'credential');
    const blob = optionalString(e, 'blob', 'credential');
    if (!type || blob === undefined) throw badRequest("Invalid input for field 'credential': 'type' and 'blob' are required.");
    const projectId = optionalString(e, 'project_id', 'credential');
    if (type === EC2 && !projectId) throw badRequest('An ec2 credential needs a project_id.');
    const c: Credential = { id: idFor(type, blob), userId: openstackId(user.metadata.uid), projectId, type, blob };
    await store(user, c);
    return { status: 201, body: { credential: view(c, req.base) } };
  });
  router.on('PATCH', '/credentials/:id', async (req) => {
    const old = find(req.params.id, req.auth);
    const e = entity(req.body, 'credential');
    const updated: Credential = { ...old, blob: optionalString(e, 'blob', 'credential') ?? old.blob, type: optionalString(e, 'type', 'credential') ?? old.type, projectId: e.project_id !== undefined ? optionalString(e, 'project_id', 'credential') : old.projectId };
    const enc = (v: string | undefined) => Buffer.from(v ?? '').toString('base64');
    await committed(dir.secrets, client.patch<Secret>(SECRETS, SYSTEM_NAMESPACE, secretName(old.id), { data: { projectId: enc(updated.projectId), type: enc(updated.type), blob: enc(updated.blob) } }, API_FIELD_MANAGER), 'credential');
    return { status: 200, body: { credential: view(updated, req.base) } };
  });
  router.on('DELETE', '/credentials/:id', async (req) => {
    await remove(find(req.params.id, req.auth));
    return { status: 204 };
  });

  // EC2 credentials: a generated access and secret key for a project.
  const ec2Of = (req: { params: Record<string, string>; auth: AuthContext }) => {
    const user = ownerFor(req.params.user, req.auth);
    return { user, credentials: all().filter((c) => c.type === EC2 && c.userId === openstackId(user.metadata.uid)) };
  };
  router.on('GET', '/users/:user/credentials/OS-EC2', (req) => ({ status: 200, body: { credentials: ec2Of(req).credentials.map((c) => ec2View(c, req.base)), links: { self: `${req.base}/users/${req.params.user}/credentials/OS-EC2`, next: null, previous: null } } }));
  const ec2Find = (req: { params: Record<string, string>; auth: AuthContext }) => {
    const c = ec2Of(req).credentials.find((x) => ec2Blob(x.blob)?.access === req.params.access);
    if (!c) throw notFound('credential', req.params.access);
    return c;
  };
  router.on('GET', '/users/:user/credentials/OS-EC2/:access', (req) => ({ status: 200, body: { credential: ec2View(ec2Find(req), req.base) } }));
  router.on('POST', '/users/:user/credentials/OS-EC2', async (req) => {
    const { user } = ec2Of(req);
    const tenantId = req.body?.tenant_id;
    if (typeof tenantId !== 'string' || !dir.tenants.byOpenstackId(tenantId)) throw badRequest("Invalid input: 'tenant_id' must name an existing project.");
    const blob = JSON.stringify({ access: randomBytes(16).toString('hex'), secret: randomBytes(16).toString('hex') });
    const c: Credential = { id: idFor(EC2, blob), userId: openstackId(user.metadata.uid), projectId: tenantId, type: EC2, blob };
    await store(user, c);
    return { status: 201, body: { credential: ec2View(c, req.base) } };
  });
  router.on('DELETE', '/users/:user/credentials/OS-EC2/:access', async (req) => {
    await remove(ec2Find(req));
    return { status: 204 };
  });
}
