/**
 * The TokenReview webhook (authentication.k8s.io/v1) the control plane asks about Keystone tokens, as
 * cloud-provider-openstack's k8s-keystone-auth answers it: a kube-apiserver points
 * --authentication-token-webhook-config-file here, and the embedded one is configured the same way. The user
 * is the Keystone user (its User object's name); the groups carry its project, and (project, role) for each
 * of the token's roles, which the RoleBindings of role assignments name; an admin of a project is also in
 * system:masters, as the OpenStack admin role may do anything.
 * The token validates itself: a caller learns only who the token it already holds speaks for.
 */
import { displayNameOf } from '@stratus/runtime';
import { openstackId, projectRoleGroup } from '../resources.js';
import { isAdmin, type Authenticator } from './auth.js';
import type { IdentityDirectory } from './directory.js';
import type { Router } from './router.js';

export const TOKEN_REVIEW_PATH = '/k8s/tokenreviews';
const EXTRA = 'alpha.kubernetes.io/identity';

export function tokenReviewRoutes(router: Router, dir: IdentityDirectory, auth: Authenticator) {
  router.public('POST', TOKEN_REVIEW_PATH, (req) => {
    const review = req.body as { apiVersion?: string; kind?: string; spec?: { token?: string } } | undefined;
    const answer = (status: Record<string, unknown>) => ({ status: 200, body: { apiVersion: review?.apiVersion ?? 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: { creationTimestamp: null }, spec: {}, status } });
    const token = review?.spec?.token;
    if (review?.kind !== 'TokenReview' || typeof token !== 'string' || !token) return answer({ authenticated: false, error: 'a TokenReview with spec.token is expected' });
    let ctx;
    try {
      ctx = auth.validate(token, 'token');
    } catch {
      return answer({ authenticated: false, error: 'the token is not a valid Keystone token' });
    }
    // Only project-scoped tokens speak for someone in a tenant's namespace.
    if (!ctx.project) return answer({ authenticated: false, error: 'a project-scoped Keystone token is required' });
    const projectId = openstackId(ctx.project.metadata.uid);
    const roles = ctx.roles.map((r) => r.metadata.name);
    const groups = [projectId, ...roles.map((r) => projectRoleGroup(projectId, r)), ...(isAdmin(ctx) ? ['system:masters'] : [])];
    return answer({
      authenticated: true,
      user: {
        username: ctx.user.metadata.name,
        uid: openstackId(ctx.user.metadata.uid),
        groups,
        extra: {
          [`${EXTRA}/project/id`]: [projectId],
          [`${EXTRA}/project/name`]: [displayNameOf(ctx.project)],
          [`${EXTRA}/project/namespace`]: [ctx.project.metadata.name],
          [`${EXTRA}/roles`]: roles,
          [`${EXTRA}/user/name`]: [displayNameOf(ctx.user)],
        },
      },
      audiences: [],
    });
  });
}
