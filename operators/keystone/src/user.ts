/**
 * The User reconciler. The password stays in the user's own Secret; Keystone keeps only its scrypt hash in
 * an owned Secret in stratus-system (garbage-collected with the User), re-hashing only when the source changes.
 */
import { markReady, markStalled, now, patchStatus, type ReconcileContext, type Request, type Result } from '@stratus/runtime';
import { holdName } from './names.js';
import { hashPassword } from './passwords.js';
import { NO_SECURITY_COMPLIANCE, keptHistory, type SecurityCompliance } from './securityCompliance.js';
import {
  CREDENTIAL_LABEL,
  FIELD_MANAGER,
  PASSWORD_SOURCE_ANNOTATION,
  SECRETS,
  SYSTEM_NAMESPACE,
  USERS,
  credentialSecretName,
  openstackId,
  passwordHistoryData,
  passwordHistoryOf,
  type Secret,
  type User,
} from './resources.js';

/** The User reconciler, keeping as many earlier password hashes as the cloud's password history rule needs. */
export const userReconciler =
  (compliance: SecurityCompliance = NO_SECURITY_COMPLIANCE) =>
  (req: Request, ctx: ReconcileContext<User>) =>
    reconcileUser(req, ctx, keptHistory(compliance));

export async function reconcileUser(req: Request, ctx: ReconcileContext<User>, historyKept = 0): Promise<Result | void> {
  const { client } = ctx;
  const user = await client.get<User>(USERS, undefined, req.name);
  if (!user) return;
  const nameTaken = await holdName(user, ctx);
  if (nameTaken) return nameTaken;
  const gen = user.metadata.generation;
  const ref = user.spec.passwordSecretRef;
  const refNamespace = ref.namespace ?? SYSTEM_NAMESPACE;
  const refKey = ref.key ?? 'password';

  const source = await client.get<Secret>(SECRETS, refNamespace, ref.name);
  const encoded = source?.data?.[refKey];
  if (!source || !encoded) {
    const message = source ? `secret ${refNamespace}/${ref.name} has no key "${refKey}"` : `secret ${refNamespace}/${ref.name} does not exist`;
    await patchStatus(client, USERS, user, { phase: 'Error', conditions: markStalled(user.status?.conditions, gen, 'PasswordSecretNotFound', message) }, FIELD_MANAGER);
    return; // the operator watches Secrets: its creation brings the user back here
  }
  const password = Buffer.from(encoded, 'base64').toString('utf8');
  if (password.length === 0) {
    await patchStatus(client, USERS, user, { phase: 'Error', conditions: markStalled(user.status?.conditions, gen, 'PasswordEmpty', `secret ${refNamespace}/${ref.name} key "${refKey}" is empty`) }, FIELD_MANAGER);
    return;
  }

  const credentialName = credentialSecretName(user.metadata.name);
  const fingerprint = `${source.metadata.uid}/${source.metadata.resourceVersion}`;
  const credential = await client.get<Secret>(SECRETS, SYSTEM_NAMESPACE, credentialName);
  let passwordUpdatedAt = user.status?.passwordUpdatedAt;
  if (credential?.metadata.annotations?.[PASSWORD_SOURCE_ANNOTATION] !== fingerprint) {
    const body: Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: credentialName,
        namespace: SYSTEM_NAMESPACE,
        labels: { [CREDENTIAL_LABEL]: user.metadata.name },
        annotations: { [PASSWORD_SOURCE_ANNOTATION]: fingerprint },
        ownerReferences: [{ apiVersion: user.apiVersion, kind: 'User', name: user.metadata.name, uid: user.metadata.uid!, controller: true, blockOwnerDeletion: true }],
      },
      type: 'Opaque',
      // The hash it replaces goes to the front of the history, which keeps no more than the rule needs.
      data: { hash: Buffer.from(await hashPassword(password)).toString('base64'), ...passwordHistoryData([credential?.data?.hash, ...passwordHistoryOf(credential?.data)].filter((h): h is string => !!h).slice(0, historyKept)) },
    };
    await client.createOrReplace(SECRETS, credential, body, FIELD_MANAGER);
    passwordUpdatedAt = now();
    await ctx.events.record(user, 'Normal', 'PasswordSet', `Stored the password hash from secret ${refNamespace}/${ref.name}`);
  }

  const enabled = user.spec.enabled !== false;
  await patchStatus(client, USERS, user, {
    phase: enabled ? 'Active' : 'Disabled',
    userId: openstackId(user.metadata.uid),
    credentialSecret: `${SYSTEM_NAMESPACE}/${credentialName}`,
    passwordUpdatedAt,
    conditions: markReady(user.status?.conditions, gen, enabled ? 'PasswordSet' : 'Disabled', enabled ? 'the user can sign in' : 'the user is disabled'),
  }, FIELD_MANAGER);
}

/** Whether this Secret is the one the user's password is read from. */
export function usesSecret(user: User, secret: { metadata?: { name?: string; namespace?: string } }): boolean {
  const ref = user.spec.passwordSecretRef;
  return secret.metadata?.name === ref.name && secret.metadata?.namespace === (ref.namespace ?? SYSTEM_NAMESPACE);
}

