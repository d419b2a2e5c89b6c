/**
 * The Image API's validating admission webhook (admission.k8s.io/v1): an Image a project member writes with
 * kubectl is refused at once where the Image API would refuse the same change, with Glance's words: making an
 * image public (only admins may), or copying an image the project cannot see.
 */
import type { AdmissionDecider, AdmissionRequest, Refusal } from '@stratus/runtime';
import type { Image } from '../resources.js';
import { canSee, mayPublicize } from '../visibility.js';
import type { GlanceApi } from './context.js';

export const IMAGE_ADMISSION_PATH = '/os-admission/images';

/** The webhook, by the path it is served at on the admission listener. */
export const admissionWebhooks = (api: GlanceApi): Record<string, AdmissionDecider<Image>> => ({ [`/v2${IMAGE_ADMISSION_PATH}`]: (r) => imageRefusal(api, r) });

/** Why Glance would refuse this Image write, or nothing (pure but for the cache it reads). */
export function imageRefusal(api: GlanceApi, r: AdmissionRequest<Image>): Refusal | undefined {
  const img = r.object!;
  const namespace = r.namespace ?? img.metadata?.namespace ?? '';
  const member = { tenant: namespace, projectId: api.dir.projectIdOf(namespace), admin: false };
  const old = r.operation === 'UPDATE' ? r.oldObject : undefined;
  if (img.spec?.visibility === 'public' && old?.spec?.visibility !== 'public' && !mayPublicize(member))
    return { code: 403, message: old ? 'You are not authorized to publicize this image; only admins may.' : 'You are not authorized to create public images; only admins may publicize an image.' };
  const from = r.operation === 'CREATE' ? img.spec?.source?.copyFrom : undefined;
  if (from?.name) {
    const source = api.dir.named(from.name, from.namespace ?? namespace);
    if (source && !canSee(source, member)) return { code: 422, message: `Image.image.stratus.io "${img.metadata?.name ?? ''}" is invalid: spec.source.copyFrom: No image found with ID ${from.namespace ? `${from.namespace}/` : ''}${from.name}` };
  }
  return undefined;
}
