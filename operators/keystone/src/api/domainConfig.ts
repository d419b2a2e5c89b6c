/**
 * Keystone's domain-specific configuration (/v3/domains/{id}/config), pure: which groups and options may be
 * kept (Keystone's whitelisted and sensitive lists), Keystone's checks and error words for a create, an update
 * of the whole, a group or an option, a read and a delete, and keystone.conf's defaults for the whitelisted
 * options. A config is `{group: {option: value}}`; sensitive options (the LDAP bind password) are kept apart
 * and never shown, as Keystone keeps them in a table of their own.
 */
import { IdentityError } from './errors.js';

export type DomainConfig = Record<string, Record<string, unknown>>;

const LDAP_OPTIONS = [
  'url', 'user', 'suffix', 'query_scope', 'page_size', 'alias_dereferencing', 'debug_level', 'chase_referrals',
  'user_tree_dn', 'user_filter', 'user_objectclass', 'user_id_attribute', 'user_name_attribute', 'user_mail_attribute',
  'user_description_attribute', 'user_pass_attribute', 'user_enabled_attribute', 'user_enabled_invert', 'user_enabled_mask',
  'user_enabled_default', 'user_attribute_ignore', 'user_default_project_id_attribute', 'user_enabled_emulation',
  'user_enabled_emulation_dn', 'user_enabled_emulation_use_group_config', 'user_additional_attribute_mapping',
  'group_tree_dn', 'group_filter', 'group_objectclass', 'group_id_attribute', 'group_name_attribute', 'group_members_are_ids',
  'group_member_attribute', 'group_desc_attribute', 'group_attribute_ignore', 'group_additional_attribute_mapping',
  'tls_cacertfile', 'tls_cacertdir', 'use_tls', 'tls_req_cert', 'use_pool', 'pool_size', 'pool_retry_max', 'pool_retry_delay',
  'pool_connection_timeout', 'pool_connection_lifetime', 'use_auth_pool', 'auth_pool_size', 'auth_pool_connection_lifetime',
] as const;

/** The options Keystone keeps and shows, by group. */
export const WHITELISTED: Record<string, readonly string[]> = { identity: ['driver', 'list_limit'], ldap: LDAP_OPTIONS };
/** The options Keystone keeps but never shows. */
export const SENSITIVE: Record<string, readonly string[]> = { identity: [], ldap: ['password'] };

/** keystone.conf's defaults for the whitelisted options (unset ones null), as GET /v3/domains/config/default shows them. */
const DEFAULTS: DomainConfig = {
  identity: { driver: 'sql', list_limit: null },
  ldap: {
    ...Object.fromEntries(LDAP_OPTIONS.map((o) => [o, null])),
    url: 'ldap://localhost',
    suffix: 'cn=example,cn=com',
    query_scope: 'one',
    page_size: 0,
    alias_dereferencing: 'default',
    user_objectclass: 'inetOrgPerson',
    user_id_attribute: 'cn',
    user_name_attribute: 'sn',
    user_mail_attribute: 'mail',
    user_description_attribute: 'description',
    user_pass_attribute: 'userPassword',
    user_enabled_attribute: 'enabled',
    user_enabled_invert: false,
    user_enabled_mask: 0,
    user_enabled_default: 'True',
    user_attribute_ignore: ['default_project_id'],
    user_enabled_emulation: false,
    user_enabled_emulation_use_group_config: false,
    user_additional_attribute_mapping: [],
    group_objectclass: 'groupOfNames',
    group_id_attribute: 'cn',
    group_name_attribute: 'ou',
    group_members_are_ids: false,
    group_member_attribute: 'member',
    group_desc_attribute: 'description',
    group_attribute_ignore: [],
    group_additional_attribute_mapping: [],
    use_tls: false,
    tls_req_cert: 'demand',
    use_pool: true,
    pool_size: 10,
    pool_retry_max: 3,
    pool_retry_delay: 0.1,
    pool_connection_timeout: -1,
    pool_connection_lifetime: 600,
    use_auth_pool: true,
    auth_pool_size: 100,
    auth_pool_connection_lifetime: 60,
  },
};

/** Keystone's InvalidDomainConfig (a 403). */
export const invalidConfig = (reason: string) => new IdentityError(403, 'Forbidden', `Invalid domain specific configuration: ${reason}.`);
/** Keystone's DomainConfigNotFound: `what` is "any options", "group G" or "option O in group G". */
export const configNotFound = (what: string, domainId: string) => new IdentityError(404, 'Not Found', `Could not find ${what} in domain configuration for domain ${domainId}.`);

const what = (group?: string, option?: string) => (option ? `option ${option} in group ${group}` : group ? `group ${group}` : 'any options');
export const isSensitive = (group: string, option: string) => !!SENSITIVE[group]?.includes(option);

/** A group and option a path names must be ones Keystone supports (an option only with its group). */
export function assertGroupAndOption(group?: string, option?: string): void {
  if (!group) return;
  if (!Object.hasOwn(WHITELISTED, group)) throw invalidConfig(`Group ${group} is not supported for domain specific configurations`);
  if (option && !WHITELISTED[group].includes(option) && !isSensitive(group, option)) throw invalidConfig(`Option ${option} in group ${group} is not supported for domain specific configurations`);
}

/** A request's config: at least one group, each a non-empty object of supported options. */
export function validConfig(config: unknown): DomainConfig {
  if (!config || typeof config !== 'object' || Array.isArray(config) || !Object.keys(config).length) throw invalidConfig('No options specified');
  for (const [group, options] of Object.entries(config)) {
    if (!options || typeof options !== 'object' || Array.isArray(options) || !Object.keys(options).length) throw invalidConfig(`The value of group ${group} specified in the config should be a dictionary of options`);
    for (const option of Object.keys(options)) assertGroupAndOption(group, option);
  }
  return config as DomainConfig;
}

/** The config split into what is shown and what is kept apart (sensitive). */
export function splitSensitive(config: DomainConfig): { shown: DomainConfig; sensitive: DomainConfig } {
  const shown: DomainConfig = {};
  const sensitive: DomainConfig = {};
  for (const [group, options] of Object.entries(config))
    for (const [option, value] of Object.entries(options)) ((isSensitive(group, option) ? sensitive : shown)[group] ??= {})[option] = value;
  return { shown, sensitive };
}

/** `update` laid over `base`, option by option. */
export function merged(base: DomainConfig, update: DomainConfig): DomainConfig {
  const out: DomainConfig = Object.fromEntries(Object.entries(base).map(([g, o]) => [g, { ...o }]));
  for (const [group, options] of Object.entries(update)) out[group] = { ...out[group], ...options };
  return out;
}

/**
 * An update's config, checked as Keystone checks it: a group's update holds that group only, an option's that
 * option only (its body is the option alone), and what it names must already be there (`current`, with the
 * sensitive options). The config to merge, in `{group: {option}}` form.
 */
export function checkedUpdate(body: unknown, current: DomainConfig, domainId: string, group?: string, option?: string): DomainConfig {
  assertGroupAndOption(group, option);
  const update = validConfig(group && option ? { [group]: body } : body);
  if (group) {
    const groups = Object.keys(update);
    if (groups.length !== 1 || (option && Object.keys(update[groups[0]]).length !== 1))
      throw invalidConfig(option ? `Trying to update option ${option} in group ${group}, so that, and only that, option must be specified  in the config` : `Trying to update group ${group}, so that, and only that, group must be specified in the config`);
    if (!update[group]) throw invalidConfig(`request to update group ${group}, but config provided contains group ${groups[0]} instead`);
    if (option && !(option in update[group])) throw invalidConfig(`Trying to update option ${option} in group ${group}, but config provided contains option ${Object.keys(update[group])[0]} instead`);
    if (!partOf(current, group, option)) throw configNotFound(what(group, option), domainId);
  }
  return update;
}

/** The part of a config a path names (all of it, a group, or `{option: value}` for an option), or undefined when there is none. */
export function partOf(config: DomainConfig, group?: string, option?: string): Record<string, unknown> | undefined {
  if (!group) return Object.keys(config).length ? config : undefined;
  const options = config[group];
  if (!options || !Object.keys(options).length) return undefined;
  if (!option) return { [group]: options };
  return option in options ? { [option]: options[option] } : undefined;
}

/** GET's answer: the shown part a path names, 404 in Keystone's words when there is none. */
export function shownPart(shown: DomainConfig, domainId: string, group?: string, option?: string): Record<string, unknown> {
  assertGroupAndOption(group, option);
  return partOf(shown, group, option) ?? (() => { throw configNotFound(what(group, option), domainId); })();
}

/** The config without the part a path names; 404 when a group or option named is not there. */
export function withoutPart(current: DomainConfig, domainId: string, group?: string, option?: string): DomainConfig {
  assertGroupAndOption(group, option);
  if (!group) return {};
  if (!current[group] || (option && !current[group][option])) throw configNotFound(what(group, option), domainId);
  const out: DomainConfig = Object.fromEntries(Object.entries(current).map(([g, o]) => [g, { ...o }]));
  if (option) delete out[group][option];
  if (!option || !Object.keys(out[group]).length) delete out[group];
  return out;
}

/** keystone.conf's defaults: all whitelisted options, a group's, or `{option: value}`; a sensitive option's default is not shown. */
export function defaultsOf(group?: string, option?: string): Record<string, unknown> {
  assertGroupAndOption(group, option);
  if (group && option && !WHITELISTED[group].includes(option)) throw invalidConfig(`Reading the default for option ${option} in group ${group} is not supported`);
  return partOf(DEFAULTS, group, option)!;
}

/** The merge patch that turns `old` into `next` (nulls remove what `next` drops). */
export function replacingPatch(old: DomainConfig, next: DomainConfig): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const group of new Set([...Object.keys(old), ...Object.keys(next)])) {
    if (!next[group]) patch[group] = null;
    else patch[group] = Object.fromEntries([...new Set([...Object.keys(old[group] ?? {}), ...Object.keys(next[group])])].map((o) => [o, o in next[group] ? next[group][o] : null]));
  }
  return patch;
}
