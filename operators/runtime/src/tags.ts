/** OpenStack's tag filters on list calls (Keystone's projects, Nova's servers, Neutron's resources). */

/** tags (all of), tags-any (one of), not-tags (not all of), not-tags-any (none of): comma-separated lists. */
export function tagsMatch(q: URLSearchParams, tags: readonly string[]): boolean {
  const listOf = (k: string) => (q.get(k) ?? '').split(',').filter(Boolean);
  const has = (t: string) => tags.includes(t);
  if (q.has('tags') && !listOf('tags').every(has)) return false;
  if (q.has('tags-any') && !listOf('tags-any').some(has)) return false;
  if (q.has('not-tags') && listOf('not-tags').every(has)) return false;
  if (q.has('not-tags-any') && listOf('not-tags-any').some(has)) return false;
  return true;
}
