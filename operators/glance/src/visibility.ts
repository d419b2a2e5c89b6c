/** Who may see, use and change an image: Glance's visibility rules, pure and tested alone. */
import type { Image } from './resources.js';

/** Who is asking: their tenant (a namespace) and whether they are an admin. */
export interface Viewer {
  tenant?: string;
  admin: boolean;
}

export const ownedBy = (img: Image, v: Viewer) => img.metadata.namespace === v.tenant;

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

/** Whether a list with no visibility filter shows it: community and hidden images only when asked for. */
export function listedByDefault(img: Image, v: Viewer): boolean {
  if (!canSee(img, v)) return false;
  if (img.spec.visibility === 'community' && !ownedBy(img, v)) return false;
  return true;
}

/** Owners and admins change and delete images; everyone else may only look. */
export const canModify = (img: Image, v: Viewer) => v.admin || ownedBy(img, v);

/** Only admins may publish an image to every tenant (Glance's publicize_image policy). */
export const mayPublicize = (v: Viewer) => v.admin;
