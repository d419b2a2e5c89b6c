#!/usr/bin/env node
/**
 * The gateway in its own process, as `stratus up` runs it: every byte of every OpenStack API call passes
 * through here, and sharing an event loop with the control plane made each wait for the other (a 1 GiB image
 * download through the gateway ran at half the Image API's own speed). STRATUS_GATEWAY_HOST, _PORT and _ROUTES
 * (JSON: [{prefix, target}]) say where it listens and what it serves.
 */
import { createLogger, stopWithParent } from '@stratus/runtime';
import { startGateway, type GatewayRoute } from './gateway.js';

const log = createLogger('gateway');
const routes = JSON.parse(process.env.STRATUS_GATEWAY_ROUTES ?? '[]') as GatewayRoute[];
const gateway = await startGateway({ host: process.env.STRATUS_GATEWAY_HOST ?? '127.0.0.1', port: Number(process.env.STRATUS_GATEWAY_PORT ?? 8000), routes });
log.info('gateway listening', { url: gateway.url, routes: routes.map((r) => r.prefix) });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void gateway.close().then(() => process.exit(0)));
stopWithParent();
