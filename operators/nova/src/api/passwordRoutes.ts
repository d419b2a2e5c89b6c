/**
 * /servers/{id}/os-server-password: the password a guest posted, encrypted with its keypair (Nova keeps it
 * for Windows guests). Guests post it through the metadata service, which this cloud does not run yet, so
 * it is empty until something sets the Instance's annotation; clearing it is Nova's DELETE.
 */
import { INSTANCES } from '../resources.js';
import { serverFor, updateObject, type ComputeApiContext, type ComputeRouter } from './context.js';
import { serverIdOf } from './views.js';

/** Where the guest's encrypted password is kept, as Nova keeps it in system metadata. */
export const PASSWORD_ANNOTATION = 'compute.stratus.io/encrypted-password';

export function passwordRoutes(router: ComputeRouter, api: ComputeApiContext) {
  router.on('GET', '/servers/:id/os-server-password', (req) => {
    const inst = serverFor(api, req.params.id, req.auth);
    return { status: 200, body: { password: inst.metadata.annotations?.[PASSWORD_ANNOTATION] ?? '' } };
  });
  router.on('DELETE', '/servers/:id/os-server-password', async (req) => {
    const inst = serverFor(api, req.params.id, req.auth);
    if (inst.metadata.annotations?.[PASSWORD_ANNOTATION] !== undefined)
      await updateObject(api, api.dir.instances, INSTANCES, inst, () => ({ metadata: { annotations: { [PASSWORD_ANNOTATION]: null } } }), `Instance ${serverIdOf(inst)}`);
    return { status: 204 };
  });
}
