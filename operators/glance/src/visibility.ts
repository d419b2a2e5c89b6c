/** Who may see, use and change an image: Glance's visibility rules, pure and tested alone. */
import type { Image, MemberStatus } from './resources.js';

/** Who is asking: their tenant (a namespace) and whether they are an admin. */
export interface Viewer {
  tenant?: string;
  /** The viewer's project ID, which an image's explicit owner names. */
  projectId?: string;
  admin: boolean;
}

/** The owner is the tenant whose namespace holds the image, unless an admin named another project (spec.owner). */
export const ownedBy = (img: Image, v: Viewer) => (img.spec.owner !== undefined ? !!v.projectId && v.projectId === img.spec.owner : img.metadata.namespace === v.tenant);

/** Whether the viewer may see and use (boot, download, copy) the image. */
export function canSee(img: Image, v: Viewer): boolean {
  if (v.admin || ownedBy(img, v)) return true;
  switch (img.spec.visibility ?? 'shared') {
    case 'public':
    case 'community':
      return true;
    case 'shared':
      return !!v.tenant && (img.spec.members ?? []).includes(v.tenant);
    default:
      return false;
  }
}

/** A member's answer to a share; a member who has not answered is pending. */
export const memberStatusOf = (img: Image, tenant: string): MemberStatus => img.spec.memberStatus?.[tenant]?.status ?? 'pending';

/**
 * Whether a list shows it: community images only when asked for; a shared image to its members only once
 * they accepted it, unless the list asks for another member status (pending, rejected, all).
 */
export function listedByDefault(img: Image, v: Viewer, memberStatus: MemberStatus | 'all' = 'accepted'): boolean {
  if (!canSee(img, v)) return false;
  if (ownedBy(img, v)) return true;
  if (img.spec.visibility === 'community') return false;
  if (img.spec.visibility === 'shared' && v.tenant && (img.spec.members ?? []).includes(v.tenant)) return memberStatus === 'all' || memberStatusOf(img, v.tenant) === memberStatus;
  return true;
}

/** Owners and admins change and delete images; everyone else may only look. */
export const canModify = (img: Image, v: Viewer) => v.admin || ownedBy(img, v);

/** Only admins may publish an image to every tenant (Glance's publicize_image policy). */
export const mayPublicize = (v: Viewer) => v.admin;
