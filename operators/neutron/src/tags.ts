/**
 * Neutron's resource tags (the `standard-attr-tag` extension): free-text labels on networks, subnets, ports,
 * routers, floating IPs, security groups and subnet pools, set through `/v2.0/<resources>/<id>/tags` and found
 * again with the `tags`, `tags-any`, `not-tags` and `not-tags-any` list filters. Pure: checks and matching only.
 */

/** Neutron's limit on one tag (neutron-lib's tagging extension). */
export const MAX_TAG_LENGTH = 255;

export class TagError extends Error {}

/** One tag as given in a path or a list, or the reason Neutron refuses it. */
export function parseTag(raw: unknown): string {
  if (typeof raw !== 'string') throw new TagError(`'${JSON.stringify(raw)}' is not a valid string`);
  if (raw.length > MAX_TAG_LENGTH) throw new TagError(`'${raw}' exceeds maximum length of ${MAX_TAG_LENGTH}`);
  if (raw.length === 0) throw new TagError("'' is not a valid tag");
  return raw;
}

/** The body of a replace-all (`{"tags": [...]}`): unique strings, each a valid tag. */
export function parseTagsBody(body: unknown): string[] {
  const tags = (body as { tags?: unknown } | undefined)?.tags;
  if (!body || typeof body !== 'object' || !Array.isArray(tags)) throw new TagError('Invalid tags body');
  const parsed = tags.map(parseTag);
  const duplicate = parsed.find((t, i) => parsed.indexOf(t) !== i);
  if (duplicate !== undefined) throw new TagError(`Duplicate items in the list: '${duplicate}'`);
  return parsed;
}

/** The tag filters of a list query, Neutron's four: each a comma-separated set, repeated ones joined. */
export const TAG_FILTERS = ['tags', 'tags-any', 'not-tags', 'not-tags-any'] as const;

/**
 * Whether a resource with `have` passes the query's tag filters: `tags` all present, `tags-any` one present,
 * `not-tags` not all present, `not-tags-any` none present. No tag filter passes everything.
 */
export function tagsMatcher(query: URLSearchParams): (have: readonly string[]) => boolean {
  const setOf = (key: string) => query.getAll(key).flatMap((v) => v.split(',')).filter((t) => t !== '');
  const [all, any, notAll, notAny] = TAG_FILTERS.map(setOf);
  return (have) => {
    const holds = (t: string) => have.includes(t);
    if (all.length && !all.every(holds)) return false;
    if (any.length && !any.some(holds)) return false;
    if (notAll.length && notAll.every(holds)) return false;
    if (notAny.length && notAny.some(holds)) return false;
    return true;
  };
}

/** The tags after adding one, in the order they were set. */
export const withTag = (tags: readonly string[], tag: string): string[] => (tags.includes(tag) ? [...tags] : [...tags, tag]);
