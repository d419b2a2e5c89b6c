/**
 * /v3/qos-specs: Cinder's QoS specs (admins only): made, changed and deleted as QosSpec objects, and associated
 * with volume types (a VolumeType's spec.qosSpec: a type has at most one). The attachments of a type's volumes
 * carry a front-end spec's limits to the hypervisor.
 */
import { displayNameOf, type ApiRequest } from '@stratus/runtime';
import { QOS_SPECS, VOLUME_TYPES, idOf, type QosConsumer, type QosSpec, type VolumeType } from '../resources.js';
import { QOS_CONSUMERS } from '../kinds.js';
import { API_FIELD_MANAGER, bool, fromKubernetes, newObjectName, on, resourceBody, specsOf, str, type VolApi, type VolAuth, type VolRouter } from './context.js';
import { badRequest, forbidden, notFound, conflict } from './errors.js';

type Req = ApiRequest<VolAuth> & { auth: VolAuth };

/** A QoS spec as Cinder shows it. */
export const qosView = (q: QosSpec) => ({ id: idOf(q), name: displayNameOf(q), consumer: q.spec.consumer ?? 'back-end', specs: q.spec.specs ?? {} });

/** The consumer asked for, checked as Cinder checks it. */
function consumerOf(v: unknown): QosConsumer {
  if (typeof v !== 'string' || !QOS_CONSUMERS.includes(v)) throw badRequest(`Invalid input received: Valid consumer of QoS specs are: ${QOS_CONSUMERS.join(', ')}`);
  return v as QosConsumer;
}

export function qosRoutes(router: VolRouter, api: VolApi): void {
  const admin = (req: Req, action: string) => {
    if (!req.auth.admin) throw forbidden(`Policy doesn't allow volume_extension:qos_specs_manage:${action} to be performed.`);
  };
  const qosOf = (id: string) => {
    const q = api.dir.qos.byId(id);
    if (!q) throw notFound(`QoS Specs ${id} could not be found.`);
    return q;
  };
  const typesOf = (q: QosSpec) => api.dir.types.list().filter((t) => t.spec.qosSpec === q.metadata.name);
  const typeOf = (req: Req) => {
    const id = req.query.get('vol_type_id');
    if (!id) throw badRequest('Volume Type id must not be None.');
    const t = api.dir.types.byId(id);
    if (!t) throw notFound(`Volume type ${id} could not be found.`);
    return t;
  };
  /** Associates the type with `qos` (null: none), and waits until the cache holds it, so the next read shows it. */
  const setTypeQos = async (t: VolumeType, qos: string | null) => {
    const updated = await api.client.patch<VolumeType>(VOLUME_TYPES, undefined, t.metadata.name, { spec: { qosSpec: qos } }, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, `Volume type ${idOf(t)}`));
    await api.dir.types.seen(updated);
  };
  const links = (req: Req, q: QosSpec) => [
    { rel: 'self', href: `${req.base}/v3/qos-specs/${idOf(q)}` },
    { rel: 'bookmark', href: `${req.base}/qos-specs/${idOf(q)}` },
  ];

  on(router, 'GET', '/qos-specs', (req) => {
    admin(req, 'get_all');
    return { status: 200, body: { qos_specs: api.dir.qos.list().map(qosView) } };
  });
  on(router, 'GET', '/qos-specs/:id', (req) => {
    admin(req, 'get');
    const q = qosOf(req.params.id);
    return { status: 200, body: { qos_specs: qosView(q), links: links(req, q) } };
  });
  on(router, 'POST', '/qos-specs', async (req) => {
    admin(req, 'create');
    const { name: rawName, consumer: rawConsumer, ...rest } = resourceBody(req.body, 'qos_specs');
    const name = str(rawName, 'name')?.trim();
    if (!name) throw badRequest('Invalid input received: QoS specs name must be given.');
    const consumer = rawConsumer === undefined ? 'back-end' : consumerOf(rawConsumer);
    const specs = specsOf(rest, 'QoS spec');
    if (api.dir.qos.list().some((q) => displayNameOf(q) === name)) throw conflict(`QoS Specs ${name} already exists.`);
    const body: QosSpec = { apiVersion: 'blockstorage.stratus.io/v1alpha1', kind: 'QosSpec', metadata: { name: newObjectName(api.dir.qos, '', name, 'qos') }, spec: { displayName: name, consumer, specs } };
    const made = await api.client.create<QosSpec>(QOS_SPECS, body, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, 'QoS specs'));
    await api.dir.qos.seen(made);
    return { status: 200, body: { qos_specs: qosView(made), links: links(req, made) } };
  });
  on(router, 'PUT', '/qos-specs/:id', async (req) => {
    admin(req, 'update');
    const q = qosOf(req.params.id);
    const { consumer: rawConsumer, ...rest } = resourceBody(req.body, 'qos_specs');
    const consumer = rawConsumer === undefined ? {} : { consumer: consumerOf(rawConsumer) };
    const specs = specsOf(rest, 'QoS spec');
    const updated = await api.client.patch<QosSpec>(QOS_SPECS, undefined, q.metadata.name, { spec: { ...consumer, specs } }, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, `QoS specs ${req.params.id}`));
    await api.dir.qos.seen(updated);
    // Cinder answers with what was set.
    return { status: 200, body: { qos_specs: { ...consumer, ...specs } } };
  });
  on(router, 'PUT', '/qos-specs/:id/delete_keys', async (req) => {
    admin(req, 'delete_keys');
    const q = qosOf(req.params.id);
    const keys = (req.body as { keys?: unknown } | undefined)?.keys;
    if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string')) throw badRequest("Invalid input received: 'keys' must be a list of key names.");
    for (const k of keys as string[]) if (!Object.hasOwn(q.spec.specs ?? {}, k)) throw notFound(`QoS spec ${req.params.id} has no key ${k}.`);
    const updated = await api.client.patch<QosSpec>(QOS_SPECS, undefined, q.metadata.name, { spec: { specs: Object.fromEntries((keys as string[]).map((k) => [k, null])) } }, API_FIELD_MANAGER).catch((e) => fromKubernetes(e, `QoS specs ${req.params.id}`));
    await api.dir.qos.seen(updated);
    return { status: 202 };
  });
  on(router, 'DELETE', '/qos-specs/:id', async (req) => {
    admin(req, 'delete');
    const q = qosOf(req.params.id);
    const force = bool(req.query.get('force') ?? undefined, 'force') ?? false;
    const types = typesOf(q);
    if (types.length && !force) throw badRequest(`QoS Specs ${req.params.id} is still associated with entities.`);
    for (const t of types) await setTypeQos(t, null);
    await api.client.delete(QOS_SPECS, undefined, q.metadata.name).catch((e) => fromKubernetes(e, `QoS specs ${req.params.id}`));
    return { status: 202 };
  });
  on(router, 'GET', '/qos-specs/:id/associations', (req) => {
    admin(req, 'get');
    const q = qosOf(req.params.id);
    return { status: 200, body: { qos_associations: typesOf(q).map((t) => ({ association_type: 'volume_type', name: displayNameOf(t), id: idOf(t) })) } };
  });
  on(router, 'GET', '/qos-specs/:id/associate', async (req) => {
    admin(req, 'update');
    const q = qosOf(req.params.id);
    const t = typeOf(req);
    if (t.spec.qosSpec && t.spec.qosSpec !== q.metadata.name) {
      const other = api.dir.qos.get(t.spec.qosSpec);
      throw badRequest(`Type ${idOf(t)} is already associated with another qos specs: ${other ? idOf(other) : t.spec.qosSpec}`);
    }
    await setTypeQos(t, q.metadata.name);
    return { status: 202 };
  });
  on(router, 'GET', '/qos-specs/:id/disassociate', async (req) => {
    admin(req, 'update');
    const q = qosOf(req.params.id);
    const t = typeOf(req);
    if (t.spec.qosSpec === q.metadata.name) await setTypeQos(t, null);
    return { status: 202 };
  });
  on(router, 'GET', '/qos-specs/:id/disassociate_all', async (req) => {
    admin(req, 'update');
    const q = qosOf(req.params.id);
    for (const t of typesOf(q)) await setTypeQos(t, null);
    return { status: 202 };
  });
}
