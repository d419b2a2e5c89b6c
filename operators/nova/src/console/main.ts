#!/usr/bin/env node
/**
 * The console proxy process (Nova's nova-novncproxy): serves the noVNC page and bridges WebSockets with a valid
 * console token to the server's VNC display, on NOVNCPROXY_HOST:NOVNCPROXY_PORT (127.0.0.1:6080), until SIGTERM.
 */
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, createLogger, stopWithParent } from '@stratus/runtime';
import { startConsoleProxy } from './proxy.js';

const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();
const log = createLogger('nova-novncproxy');
const proxy = await startConsoleProxy({
  host: process.env.NOVNCPROXY_HOST ?? '127.0.0.1',
  port: Number(process.env.NOVNCPROXY_PORT ?? 6080),
  client: new KubeClient(kubeConfig),
  log,
  webDir: fileURLToPath(new URL('../../web/', import.meta.url)),
});
log.info('console proxy listening', { url: proxy.url });
const stop = () => void proxy.close().then(() => process.exit(0));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, stop);
stopWithParent();
