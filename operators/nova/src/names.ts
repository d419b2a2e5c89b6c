/** Nova's unique names (flavor names, and each user's keypair names) as claims of the runtime's naming model. */
import { displayNameOf, holdUniqueName, NameClaims, type KubeClient, type NameKey, type ReconcileContext, type Result } from '@stratus/runtime';
import { AGGREGATES, FIELD_MANAGER, FLAVORS, KEYPAIRS, type Aggregate, type Flavor, type Keypair } from './resources.js';

/** Aggregate names are unique, as Nova keeps them. */
export const aggregateNameKey = (name: string): NameKey => ({ kind: 'aggregate', scope: '', name });
export const flavorNameKey = (name: string): NameKey => ({ kind: 'flavor', scope: '', name });
/** A keypair's name is unique for its user (within the tenant it lives in); '' is the tenant's shared keypairs. */
export const keypairNameKey = (name: string, user = ''): NameKey => ({ kind: 'keypair', scope: user, name });

export const nameClaims = (client: KubeClient, fieldManager = FIELD_MANAGER) => new NameClaims(client, fieldManager);

/** The Flavor reconciler's pass holds the flavor's name first; a duplicate made with kubectl is Stalled. */
export const holdFlavorName = (f: Flavor, ctx: ReconcileContext<Flavor>): Promise<Result | undefined> =>
  holdUniqueName(ctx, f, flavorNameKey(displayNameOf(f)), { resource: FLAVORS, apiVersion: f.apiVersion, kind: 'Flavor', metadata: f.metadata }, FIELD_MANAGER);

export const holdKeypairName = (k: Keypair, ctx: ReconcileContext<Keypair>): Promise<Result | undefined> =>
  holdUniqueName(ctx, k, keypairNameKey(displayNameOf(k), k.spec.user), { resource: KEYPAIRS, apiVersion: k.apiVersion, kind: 'Keypair', metadata: k.metadata }, FIELD_MANAGER, 'Error');

export const holdAggregateName = (a: Aggregate, ctx: ReconcileContext<Aggregate>): Promise<Result | undefined> =>
  holdUniqueName(ctx, a, aggregateNameKey(displayNameOf(a)), { resource: AGGREGATES, apiVersion: a.apiVersion, kind: 'Aggregate', metadata: a.metadata }, FIELD_MANAGER);
