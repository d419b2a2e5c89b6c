#!/usr/bin/env node
/**
 * `stratus bootstrap`: the chart's Job. Bootstraps the cloud on the cluster it runs in (in-cluster service
 * account), from STRATUS_ADMIN_PASSWORD, STRATUS_REGION and STRATUS_<TYPE>_URL for each API
 * (STRATUS_IDENTITY_URL, STRATUS_IMAGE_URL, STRATUS_COMPUTE_URL, STRATUS_BLOCK_STORAGE_URL). Applying it again converges.
 */
import { KubeClient, createLogger, loadKubeConfig } from '@stratus/runtime';
import { bootstrapCloud } from './bootstrap.js';

const log = createLogger('stratus-bootstrap');
const urls = Object.fromEntries(
  Object.entries(process.env)
    // STRATUS_BLOCK_STORAGE_URL is the block-storage type's.
    .map(([k, v]) => [/^STRATUS_([A-Z_]+)_URL$/.exec(k)?.[1]?.toLowerCase().replace(/_/g, '-'), v] as const)
    .filter((e): e is [string, string] => !!e[0] && !!e[1]),
);
const adminPassword = process.env.STRATUS_ADMIN_PASSWORD;
if (!adminPassword) throw new Error('STRATUS_ADMIN_PASSWORD is needed');
await bootstrapCloud(new KubeClient(loadKubeConfig()), { adminPassword, region: process.env.STRATUS_REGION, urls });
log.info('cloud bootstrapped', { urls });
