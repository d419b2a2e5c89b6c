/**
 * The fields Nova's request schemas allow in each body (they say `additionalProperties: False`), per
 * microversion: a field Nova does not know is a 400 naming it, never silently dropped, so a typo
 * (`flavorref`) or a field from a later microversion is caught where the user made it.
 * The lists follow nova/api/openstack/compute/schemas/*.py; only object-shaped fields are descended into.
 */
import type { Microversion } from './microversion.js';
import { badRequest } from './errors.js';

/** An object's allowed fields, and the shapes of those that are objects (or arrays of objects) in turn. */
export interface BodyShape {
  fields: readonly string[];
  inner?: Readonly<Record<string, BodyShape>>;
}

/** The first field `shape` does not allow, with the attribute that holds it (Nova's wording names that one). */
export function unexpectedField(value: unknown, shape: BodyShape, holder = 'body'): { holder: string; field: string } | undefined {
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = unexpectedField(item, shape, holder);
      if (found) return found;
    }
    return undefined;
  }
  if (!value || typeof value !== 'object') return undefined;
  for (const [field, v] of Object.entries(value)) {
    if (!shape.fields.includes(field)) return { holder, field };
    const inner = shape.inner?.[field];
    const found = inner && unexpectedField(v, inner, field);
    if (found) return found;
  }
  return undefined;
}

/** Nova's 400 for a field its schema does not allow (the legacy v2.0 endpoint lets them through, as Nova's does). */
export function requireKnownFields(body: unknown, shape: BodyShape, v: Microversion): void {
  if (v.legacyV2) return;
  const found = unexpectedField(body, shape);
  if (found) throw badRequest(`Invalid input for field/attribute ${found.holder}. Additional properties are not allowed ('${found.field}' was unexpected)`);
}

/** Fields that exist from a microversion on (`since`) or up to the one before `until`. */
type Versioned = string | { field: string; since?: string; until?: string };
const at = (v: Microversion, fields: readonly Versioned[]): string[] =>
  fields.flatMap((f) => (typeof f === 'string' ? [f] : (!f.since || v.atLeast(f.since)) && (!f.until || !v.atLeast(f.until)) ? [f.field] : []));

/** A body `{ key: {…} }` whose one object allows `fields`. */
export const wrapped = (key: string, inner: BodyShape): BodyShape => ({ fields: [key], inner: { [key]: inner } });

const LEGACY_BDM = ['virtual_name', 'volume_id', 'snapshot_id', 'volume_size', 'device_name', 'delete_on_termination', 'no_device', 'connection_info'];
const BDM_V2 = [...LEGACY_BDM, 'source_type', 'uuid', 'image_id', 'destination_type', 'guest_format', 'device_type', 'disk_bus', 'boot_index'];

export function serverCreateShape(v: Microversion): BodyShape {
  const server: BodyShape = {
    fields: at(v, [
      'name', 'imageRef', 'flavorRef', 'adminPass', 'metadata', 'networks', 'OS-DCF:diskConfig', 'accessIPv4', 'accessIPv6',
      'availability_zone', 'block_device_mapping', 'block_device_mapping_v2', 'config_drive', 'key_name', 'min_count',
      'max_count', 'return_reservation_id', 'security_groups', 'user_data',
      { field: 'personality', until: '2.57' }, { field: 'description', since: '2.19' }, { field: 'tags', since: '2.52' },
      { field: 'trusted_image_certificates', since: '2.63' },
    ]),
    inner: {
      networks: { fields: at(v, ['fixed_ip', 'port', 'uuid', { field: 'tag', since: '2.32' }]) },
      security_groups: { fields: ['name'] },
      block_device_mapping: { fields: LEGACY_BDM },
      block_device_mapping_v2: { fields: at(v, [...BDM_V2, { field: 'tag', since: '2.32' }, { field: 'volume_type', since: '2.67' }]) },
    },
  };
  // Scheduler hints are open-ended in Nova (additionalProperties: True).
  return { fields: ['server', 'os:scheduler_hints', 'OS-SCH-HNT:scheduler_hints'], inner: { server } };
}

export const serverUpdateShape = (v: Microversion): BodyShape =>
  wrapped('server', { fields: at(v, ['name', 'OS-DCF:diskConfig', 'accessIPv4', 'accessIPv6', { field: 'description', since: '2.19' }]) });

/** The arguments of each server action Nova validates with a closed schema; the others take null or anything. */
export function serverActionShape(action: string, v: Microversion): BodyShape | undefined {
  switch (action) {
    case 'reboot': return { fields: ['type'] };
    case 'rebuild': return { fields: at(v, [
      'name', 'imageRef', 'adminPass', 'metadata', 'preserve_ephemeral', 'OS-DCF:diskConfig', 'accessIPv4', 'accessIPv6',
      { field: 'personality', until: '2.57' }, { field: 'description', since: '2.19' }, { field: 'key_name', since: '2.54' },
      { field: 'user_data', since: '2.57' }, { field: 'trusted_image_certificates', since: '2.63' },
    ]) };
    case 'resize': return { fields: ['flavorRef', 'OS-DCF:diskConfig'] };
    case 'createImage': return { fields: ['name', 'metadata'] };
    case 'createBackup': return { fields: ['name', 'backup_type', 'rotation', 'metadata'] };
    case 'rescue': return { fields: ['adminPass', 'rescue_image_ref'] };
    case 'os-resetState': return { fields: ['state'] };
    case 'os-getConsoleOutput': return { fields: ['length'] };
    case 'os-getVNCConsole': return { fields: ['type'] };
    case 'lock': return v.atLeast('2.73') ? { fields: ['locked_reason'] } : undefined;
    case 'migrate': return v.atLeast('2.56') ? { fields: ['host'] } : undefined;
    default: return undefined;
  }
}

export const flavorCreateShape = (v: Microversion): BodyShape => wrapped('flavor', { fields: at(v, [
  'name', 'id', 'ram', 'vcpus', 'disk', 'OS-FLV-EXT-DATA:ephemeral', 'swap', 'rxtx_factor', 'os-flavor-access:is_public',
  { field: 'description', since: '2.55' },
]) });
export const flavorUpdateShape: BodyShape = wrapped('flavor', { fields: ['description'] });

export const keypairCreateShape = (v: Microversion): BodyShape =>
  wrapped('keypair', { fields: at(v, ['name', 'public_key', { field: 'type', since: '2.2' }, { field: 'user_id', since: '2.10' }]) });

export const serverGroupCreateShape = (v: Microversion): BodyShape =>
  wrapped('server_group', { fields: at(v, ['name', { field: 'policies', until: '2.64' }, { field: 'policy', since: '2.64' }, { field: 'rules', since: '2.64' }]) });

export const remoteConsoleShape: BodyShape = wrapped('remote_console', { fields: ['protocol', 'type'] });
export const aggregateShape: BodyShape = wrapped('aggregate', { fields: ['name', 'availability_zone'] });
