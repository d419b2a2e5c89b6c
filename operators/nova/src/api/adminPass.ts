/**
 * The admin password Nova returns on server create (its enable_instance_password): the one the request
 * gives, else one made up. It is kept in a Secret in the tenant's namespace, owned by the Instance, which the
 * node agent writes into the guest's config drive (admin_pass), as Nova's libvirt driver hands it over.
 */
import { randomInt } from 'node:crypto';
import { isConflict, type KubeClient } from '@stratus/runtime';
import { ADMIN_PASS_KEY, SECRETS, type Instance } from '../resources.js';
import { API_FIELD_MANAGER } from './context.js';
import { badRequest } from './errors.js';

/** Nova's generated passwords: 12 characters from letters and digits without look-alikes. */
const ALPHABET = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const LENGTH = 12;

/** The request's adminPass (a string, as Nova's schema takes it), else a new one. */
export function adminPassOf(server: Record<string, unknown>): string {
  const given = server.adminPass;
  if (given === undefined || given === null) return Array.from({ length: LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
  if (typeof given !== 'string') throw badRequest(`Invalid input for field/attribute adminPass. Value: ${JSON.stringify(given)}. ${JSON.stringify(given)} is not of type 'string'`);
  return given;
}

export const adminPassSecretName = (instance: string) => `${instance}-admin-pass`;

/** Writes the Secret before its Instance exists, so the agent never boots the guest without it. */
export async function storeAdminPass(client: KubeClient, namespace: string, instance: string, password: string): Promise<string> {
  const name = adminPassSecretName(instance);
  const body = { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'Opaque', data: { [ADMIN_PASS_KEY]: Buffer.from(password).toString('base64') } };
  await client.create(SECRETS, body, API_FIELD_MANAGER).catch(async (e) => {
    if (!isConflict(e)) throw e;
    await client.replace(SECRETS, body, API_FIELD_MANAGER); // left by an instance of the same name whose create failed midway
  });
  return name;
}

/** Makes the Instance own its Secret, so the password goes with the server. */
export const bindAdminPass = (client: KubeClient, inst: Instance) =>
  client.patch(SECRETS, inst.metadata.namespace, inst.spec.adminPassSecret!, { metadata: { ownerReferences: [{ apiVersion: inst.apiVersion, kind: 'Instance', name: inst.metadata.name, uid: inst.metadata.uid!, blockOwnerDeletion: false }] } }, API_FIELD_MANAGER);

export const dropAdminPass = (client: KubeClient, namespace: string, secret: string) => client.delete(SECRETS, namespace, secret);
