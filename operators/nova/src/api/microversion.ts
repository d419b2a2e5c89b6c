/**
 * Compute API microversions: what a request asks for (OpenStack-API-Version: compute 2.x, or the older
 * X-OpenStack-Nova-API-Version), checked against the range served, and said back on every answer.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { badRequest, notAcceptable } from './errors.js';

export const MIN_VERSION = '2.1';
/** The newest microversion whose changes this API makes (the installed SDK's Server resource asks up to 2.73). */
export const MAX_VERSION = '2.73';

export class Microversion {
  constructor(
    readonly major: number,
    readonly minor: number,
    /** Asked for at the legacy v2.0 endpoint, which (as Nova's legacy_v2 mode) drops unknown body fields. */
    readonly legacyV2 = false,
  ) {}

  static parse(text: string): Microversion | undefined {
    const m = /^(\d+)\.(\d+)$/.exec(text.trim());
    return m ? new Microversion(Number(m[1]), Number(m[2])) : undefined;
  }

  /** Whether this is `v` or later: the test each changed document or behaviour makes. */
  atLeast(v: string): boolean {
    const o = Microversion.parse(v)!;
    return this.major > o.major || (this.major === o.major && this.minor >= o.minor);
  }

  toString() {
    return `${this.major}.${this.minor}`;
  }
}

const MIN = Microversion.parse(MIN_VERSION)!;
const MAX = Microversion.parse(MAX_VERSION)!;

/** The version a request asks for; none means the minimum, `latest` the maximum. */
export function requestedVersion(headers: IncomingHttpHeaders): Microversion {
  const modern = String(headers['openstack-api-version'] ?? '')
    .split(',')
    .map((s) => s.trim().split(/\s+/))
    .find(([service]) => service?.toLowerCase() === 'compute')?.[1];
  const text = modern ?? (headers['x-openstack-nova-api-version'] as string | undefined);
  if (!text) return MIN;
  if (text.trim().toLowerCase() === 'latest') return MAX;
  const v = Microversion.parse(text);
  if (!v) throw badRequest(`API Version String ${text} is of invalid format. Must be of format MajorNum.MinorNum.`);
  if (!v.atLeast(MIN_VERSION) || (v.major === MAX.major ? v.minor > MAX.minor : v.major > MAX.major))
    throw notAcceptable(`Version ${v} is not supported by the API. Minimum is ${MIN} and maximum is ${MAX}.`);
  return v;
}

/** The headers every answer carries, naming the version it was made for. */
export const versionHeaders = (v: Microversion): Record<string, string> => ({
  'OpenStack-API-Version': `compute ${v}`,
  'X-OpenStack-Nova-API-Version': String(v),
  Vary: 'OpenStack-API-Version, X-OpenStack-Nova-API-Version',
});
