/** Server tags (microversion 2.26 on): the Instance's spec.tags, and the tag filters on server lists. */
import type { Instance } from '../resources.js';
import { INSTANCES } from '../resources.js';
import { checkLock, serverFor, updateObject, type ComputeApiContext, type ComputeRequest, type ComputeRouter } from './context.js';
import { NovaError, badRequest, notFound } from './errors.js';

/** Nova's limits: at most 50 tags a server, each 1 to 60 characters without '/' or ','. */
const MAX_TAGS = 50;

export function validTag(tag: unknown): string {
  if (typeof tag !== 'string' || tag.length < 1 || tag.length > 60 || /[/,]/.test(tag)) throw badRequest(`Invalid input for field/attribute tag. Value: ${JSON.stringify(tag)}. Tags are 1 to 60 characters without '/' or ','.`);
  return tag;
}

export function tagRoutes(router: ComputeRouter, api: ComputeApiContext) {
  const server = (req: ComputeRequest) => {
    if (!req.auth.version.atLeast('2.26')) throw new NovaError(404, 'The resource could not be found.');
    return serverFor(api, req.params.id, req.auth);
  };
  const setTags = async (req: ComputeRequest, inst: Instance, tags: string[]) => {
    checkLock(inst, req.auth, 'update tags');
    if (tags.length > MAX_TAGS) throw badRequest(`A server may have at most ${MAX_TAGS} tags.`);
    return updateObject(api, api.dir.instances, INSTANCES, inst, () => ({ spec: { tags } }), `Instance ${req.params.id}`);
  };

  router.on('GET', '/servers/:id/tags', (req) => ({ status: 200, body: { tags: server(req).spec.tags ?? [] } }));
  router.on('PUT', '/servers/:id/tags', async (req) => {
    const given = req.body?.tags;
    if (!Array.isArray(given)) throw badRequest("Invalid input for field/attribute tags. 'tags' is a required property");
    const written = await setTags(req, server(req), [...new Set(given.map(validTag))]);
    return { status: 200, body: { tags: written.spec.tags ?? [] } };
  });
  router.on('DELETE', '/servers/:id/tags', async (req) => {
    await setTags(req, server(req), []);
    return { status: 204 };
  });
  router.on('GET', '/servers/:id/tags/:tag', (req) => {
    if (!(server(req).spec.tags ?? []).includes(req.params.tag)) throw notFound(`Tag ${req.params.tag} could not be found.`);
    return { status: 204 };
  });
  router.on('PUT', '/servers/:id/tags/:tag', async (req) => {
    const inst = server(req);
    const tag = validTag(req.params.tag);
    const tags = inst.spec.tags ?? [];
    if (tags.includes(tag)) return { status: 204 };
    await setTags(req, inst, [...tags, tag]);
    return { status: 201, headers: { Location: `${req.base}/servers/${req.params.id}/tags/${encodeURIComponent(tag)}` } };
  });
  router.on('DELETE', '/servers/:id/tags/:tag', async (req) => {
    const inst = server(req);
    if (!(inst.spec.tags ?? []).includes(req.params.tag)) throw notFound(`Tag ${req.params.tag} could not be found.`);
    await setTags(req, inst, (inst.spec.tags ?? []).filter((t) => t !== req.params.tag));
    return { status: 204 };
  });
}
