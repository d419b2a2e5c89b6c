/**
 * Whether an image may boot with a flavor for a tenant, and what that takes of a host: the checks Nova makes
 * before scheduling, a rebuild or a resize, pure and in one place, with Nova's own fault messages.
 */
import { canSee, type Image } from '@stratus/glance';
import type { FlavorSnapshot } from './resources.js';
import type { Resources } from './scheduler/types.js';

const GiB = 1024 ** 3;

/** A request Nova refuses for good: the reason (a condition reason), its message and Nova's fault code. */
export class Refused extends Error {
  constructor(
    readonly reason: string,
    message: string,
    readonly code = 400,
  ) {
    super(message);
    this.name = 'Refused';
  }
}

/** The image `ref` names, if the tenant may boot it; else Refused (missing, not active, not visible). */
export function bootableImage(image: Image | undefined, ref: { namespace: string; name: string }, tenant: string): Image {
  const label = `${ref.namespace}/${ref.name}`;
  if (!image || image.metadata.deletionTimestamp || !canSee(image, { tenant, admin: false })) throw new Refused('ImageNotFound', `Image ${label} could not be found.`);
  if (image.status?.phase !== 'active') throw new Refused('ImageNotActive', `Image ${label} is not active (${image.status?.phase ?? 'queued'}).`);
  return image;
}

/** The disk an image describes, in whole GiB. */
export const imageGiB = (image: Image) => Math.ceil(Math.max(image.status?.virtualSize ?? 0, image.status?.size ?? 0) / GiB);

/** The root disk the instance gets: the flavor's, or the image's size when the flavor says 0; Refused when too small. */
export function rootDiskGiB(flavor: Pick<FlavorSnapshot, 'diskGiB' | 'ramMiB'>, image: Image): number {
  const needed = imageGiB(image);
  const root = flavor.diskGiB || needed;
  if (flavor.diskGiB && needed > flavor.diskGiB) throw new Refused('FlavorDiskSmallerThanImage', `Flavor's disk is too small for requested image. Flavor disk is ${flavor.diskGiB} GiB, image is ${needed} GiB.`);
  if ((image.spec.minDisk ?? 0) > root) throw new Refused('FlavorDiskSmallerThanMinDisk', `Flavor's disk is smaller than the image's min_disk of ${image.spec.minDisk} GiB.`);
  if ((image.spec.minRam ?? 0) > flavor.ramMiB) throw new Refused('FlavorMemoryTooSmall', `Flavor's memory is too small for requested image (min_ram ${image.spec.minRam} MiB).`);
  return root;
}

/** What an instance of this flavor holds on its host, given its root disk. */
export const resourcesOf = (flavor: Pick<FlavorSnapshot, 'vcpus' | 'ramMiB' | 'ephemeralGiB' | 'swapMiB'>, rootGiB: number): Resources => ({
  vcpus: flavor.vcpus,
  ramMiB: flavor.ramMiB,
  diskGiB: rootGiB + (flavor.ephemeralGiB ?? 0) + Math.ceil((flavor.swapMiB ?? 0) / 1024),
});

/** Nova's user data is base64; anything else is refused rather than guessed at. */
export function decodeUserData(b64: string): Buffer | undefined {
  const compact = b64.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) return undefined;
  return Buffer.from(compact, 'base64');
}
