/** Waiting for a cache to catch up with a write, so an API answers with what its caller just did. */

/** Resolves true once `seen()` holds (checked every few ms), false when the time runs out. */
export async function waitUntil(seen: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!seen()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}

/** Whether a cached resourceVersion is the written one or later (resourceVersions here are numeric and ordered). */
export function isAtLeast(cached: string | undefined, written: string | undefined): boolean {
  return !!cached && !!written && (cached === written || (/^\d+$/.test(cached) && /^\d+$/.test(written) && BigInt(cached) > BigInt(written)));
}
