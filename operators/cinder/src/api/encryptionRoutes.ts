/** /v3/types/{id}/encryption: a volume type's encryption, as Cinder's admins make, show, change and delete it. */
import { VOLUME_TYPES, idOf, type VolumeType } from '../resources.js';
import { encryptionAsked, encryptionView, type TypeEncryption } from '../encryption.js';
import { API_FIELD_MANAGER, fromKubernetes, on, type VolApi, type VolRouter } from './context.js';
import { badRequest, forbidden, notFound } from './errors.js';
import { typeInUse } from './typeRoutes.js';
import { stamp } from './views.js';

/** When the API wrote a type's encryption; one written with kubectl shows the type's own time. */
const CREATED_AT = 'blockstorage.stratus.io/encryption-created-at';
const UPDATED_AT = 'blockstorage.stratus.io/encryption-updated-at';

export function encryptionRoutes(router: VolRouter, api: VolApi): void {
  const typeFor = (auth: { admin: boolean }, id: string): VolumeType => {
    if (!auth.admin) throw forbidden("Policy doesn't allow volume_extension:volume_type_encryption to be performed.");
    const t = api.dir.type(id);
    if (!t) throw notFound(`Volume type ${id} could not be found.`);
    return t;
  };
  const encryptionOf = (t: VolumeType): TypeEncryption => {
    if (!t.spec.encryption) throw notFound(`Volume type encryption for type ${idOf(t)} does not exist.`);
    return t.spec.encryption;
  };
  /** Cinder changes no encryption while volumes of the type exist: they were made with the one they have. */
  const unused = (t: VolumeType, doing: string) => {
    if (typeInUse(api, t)) throw badRequest(`Cannot ${doing} encryption specs. Volume type in use.`);
  };
  const write = (t: VolumeType, encryption: TypeEncryption | null, annotations: Record<string, string | null>) =>
    api.client.patch<VolumeType>(VOLUME_TYPES, undefined, t.metadata.name, { metadata: { annotations }, spec: { encryption } }, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, 'Volume type'));

  // The encryption, or {} when the type has none (Cinder answers so, not 404).
  on(router, 'GET', '/types/:id/encryption', (req) => {
    const t = typeFor(req.auth, req.params.id);
    if (!t.spec.encryption) return { status: 200, body: {} };
    const a = t.metadata.annotations ?? {};
    const times = { deleted: false, created_at: stamp(a[CREATED_AT] ?? t.metadata.creationTimestamp), updated_at: a[UPDATED_AT] ? stamp(a[UPDATED_AT]) : null, deleted_at: null };
    return { status: 200, body: { ...encryptionView(t, t.spec.encryption), ...times } };
  });
  on(router, 'GET', '/types/:id/encryption/:key', (req) => {
    const t = typeFor(req.auth, req.params.id);
    const shown: Record<string, unknown> = t.spec.encryption ? encryptionView(t, t.spec.encryption) : {};
    if (!Object.hasOwn(shown, req.params.key)) throw notFound('The resource could not be found.');
    return { status: 200, body: { [req.params.key]: shown[req.params.key] } };
  });
  on(router, 'POST', '/types/:id/encryption', async (req) => {
    const t = typeFor(req.auth, req.params.id);
    const asked = encryptionAsked(req.body, false);
    if ('refused' in asked) throw badRequest(`Invalid input for field/attribute encryption. ${asked.refused}`);
    unused(t, 'create');
    if (t.spec.encryption) throw badRequest(`Volume type encryption for type ${idOf(t)} already exists.`);
    const made = await write(t, asked as TypeEncryption, { [CREATED_AT]: new Date().toISOString(), [UPDATED_AT]: null });
    return { status: 200, body: { encryption: encryptionView(made, made.spec.encryption!) } };
  });
  // Cinder's path names the encryption (any word: clients send "provider"); the type has one.
  on(router, 'PUT', '/types/:id/encryption/:encryption', async (req) => {
    const t = typeFor(req.auth, req.params.id);
    const asked = encryptionAsked(req.body, true);
    if ('refused' in asked) throw badRequest(`Invalid input for field/attribute encryption. ${asked.refused}`);
    const current = encryptionOf(t);
    unused(t, 'update');
    const updated = await write(t, { ...current, ...asked }, { [UPDATED_AT]: new Date().toISOString() });
    const { provider, control_location, cipher, key_size } = encryptionView(updated, updated.spec.encryption!);
    return { status: 200, body: { encryption: { provider, control_location, cipher, key_size } } };
  });
  on(router, 'DELETE', '/types/:id/encryption/:encryption', async (req) => {
    const t = typeFor(req.auth, req.params.id);
    encryptionOf(t);
    unused(t, 'delete');
    await write(t, null, { [CREATED_AT]: null, [UPDATED_AT]: null });
    return { status: 202 };
  });
}
