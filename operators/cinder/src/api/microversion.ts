/** The Block Storage API's microversions (OpenStack-API-Version: volume 3.x). */
import type { IncomingMessage } from 'node:http';
import { CinderError, badRequest, notFound } from './errors.js';

export const MIN_VERSION = '3.0';
/** The newest microversion served: what python3-openstackclient 6.0 and Tempest ask of (none past it). */
export const MAX_VERSION = '3.60';

/** The microversion asked for (OpenStack-API-Version: volume 3.x), checked; 3.0 when none is asked. */
export function microversionOf(req: IncomingMessage): string {
  const header = String(req.headers['openstack-api-version'] ?? '');
  const m = /volume\s+(\S+)/i.exec(header);
  const asked = m?.[1] ?? '3.0';
  if (asked === 'latest') return MAX_VERSION;
  const v = /^(\d+)\.(\d+)$/.exec(asked);
  const num = (s: string) => s.split('.').map(Number);
  if (!v) throw badRequest(`Invalid API version ${asked}`);
  const [maj, min] = [Number(v[1]), Number(v[2])];
  const [, maxMin] = num(MAX_VERSION);
  if (maj !== 3 || min > maxMin) throw new CinderError(406, `Version ${asked} is not supported by the API. Minimum is ${MIN_VERSION} and maximum is ${MAX_VERSION}.`);
  return asked;
}

/** The minor number of the microversion a request asks for (3.minor). */
export const minorOf = (req: { incoming: IncomingMessage }): number => Number(microversionOf(req.incoming).split('.')[1]);

/** A resource Cinder serves from 3.`minor` on: below it, the 404 Cinder answers for a path it does not know. */
export function requireMinor(req: { incoming: IncomingMessage }, minor: number): void {
  if (minorOf(req) < minor) throw notFound('The resource could not be found.');
}
