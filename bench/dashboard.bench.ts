/**
 * Dashboard benchmark. Prints, from one run on one machine:
 *  - how long a status change in a resource takes to appear in an open page (a real Chromium showing the
 *    Instances list: the dashboard's watch, its server-sent event, the page's read of that one server through
 *    the Compute API, the DOM), p50/p99 over 100 changes, beside the same changes' delivery to a plain watch
 *    on the control plane (the baseline: what any live view costs at least), as ratios;
 *  - the first page load: bytes on the wire (gzip) and the time until the sign-in form shows, cold cache.
 *
 *   node bench/dist/dashboard.bench.js [--changes 100]
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Watch } from '@kubernetes/client-node';
import { call, passwordAuth, startIdentityEnv } from '@stratus/keystone/testing';
import { startDashboard } from '@stratus/horizon';
import { startComputeApi } from '@stratus/nova';
import { MERGE_PATCH, createLogger } from '@stratus/runtime';
import { chromium } from 'playwright-core';
import { ms, pct, until } from './lib/load.js';

const { values } = parseArgs({ options: { changes: { type: 'string', default: '100' } } });
const CHANGES = Number(values.changes);
const INSTANCES = { group: 'compute.stratus.io', version: 'v1alpha1', plural: 'instances', namespaced: true };
const FLAVORS = { group: 'compute.stratus.io', version: 'v1alpha1', plural: 'flavors', namespaced: false };
const webDir = fileURLToPath(new URL('../../operators/horizon/dist/web/', import.meta.url));

// The page's globals, for the code run in the browser.
declare const window: Record<string, any>;
declare const document: { querySelector(s: string): unknown; body: unknown };
declare const MutationObserver: new (cb: () => void) => { observe(n: unknown, o: unknown): void; disconnect(): void };

async function main() {
  const log = createLogger('bench', 'error');
  const identity = await startIdentityEnv();
  const { client, kubeConfig } = identity;
  const admin = (await call(identity.v3, 'POST', '/auth/tokens', { body: passwordAuth('admin', identity.adminPassword, 'admin') })).headers.get('x-subject-token')!;
  // The Compute API, in the catalog as stratus up puts it; no scheduler or node agent, so only this benchmark writes the servers' status.
  const compute = await startComputeApi({ kubeConfig, logger: log, identityUrl: identity.v3, port: 0 });
  const svc = (await call(identity.v3, 'POST', '/services', { token: admin, body: { service: { type: 'compute', name: 'nova' } } })).body.service;
  await call(identity.v3, 'POST', '/endpoints', { token: admin, body: { endpoint: { service_id: svc.id, interface: 'public', url: `${compute.url}/v2.1` } } });
  await client.create(FLAVORS, { apiVersion: 'compute.stratus.io/v1alpha1', kind: 'Flavor', metadata: { name: 'm1.tiny' }, spec: { vcpus: 1, ramMiB: 256, diskGiB: 1 } } as never, 'bench');
  const server = await client.create<any>(INSTANCES, { apiVersion: 'compute.stratus.io/v1alpha1', kind: 'Instance', metadata: { name: 'bench-0', namespace: 'admin' }, spec: { flavor: 'm1.tiny', image: { name: 'img' } } }, 'bench');
  const setPhase = (phase: string) => client.patch(INSTANCES, 'admin', 'bench-0', { status: { phase, powerState: phase === 'ACTIVE' ? 'Running' : 'Shutdown' } }, 'bench', MERGE_PATCH, 'status');
  await setPhase('ACTIVE');
  const dashboard = await startDashboard({ kubeConfig, log, identityUrl: identity.v3, host: '127.0.0.1', port: 0, webDir, sessionKey: randomBytes(32) });
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
  try {
    // First load, cold cache: every byte the page needs before its sign-in form shows.
    const context = await browser.newContext();
    const page = await context.newPage();
    const responses: Array<Promise<number>> = [];
    const counted = (r: import('playwright-core').Response) => void responses.push(r.request().sizes().then((s) => s.responseBodySize + s.responseHeadersSize, () => 0));
    page.on('response', counted);
    const t0 = Date.now();
    await page.goto(`${dashboard.url}/dashboard/`);
    await page.locator('#username').waitFor();
    const loadMs = Date.now() - t0;
    await page.waitForLoadState('networkidle');
    page.off('response', counted);
    const bytes = (await Promise.all(responses)).reduce((a, b) => a + b, 0);
    console.log(`first page load (cold cache, gzip on the wire): ${(bytes / 1024).toFixed(0)} KiB in ${responses.length} responses; sign-in form shown after ${loadMs} ms`);

    await page.fill('#username', 'admin');
    await page.fill('#password', identity.adminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('user-name').waitFor();
    await page.goto(`${dashboard.url}/dashboard/instances`);
    await page.locator(`tr[data-id="${server.metadata.uid}"] [data-status=ACTIVE]`).waitFor();
    await until(async () => ((await page.evaluate(() => document.querySelector('body[data-live=open]') !== null)) ? true : undefined), 'the live stream open', 30_000);

    // The baseline: the same changes, delivered to a plain watch.
    const seen = new Map<string, number>();
    const watch = await new Watch(kubeConfig).watch('/apis/compute.stratus.io/v1alpha1/namespaces/admin/instances', { resourceVersion: server.metadata.resourceVersion }, (_type, obj: any) => seen.set(obj.metadata.resourceVersion, Date.now()), () => undefined);

    const pageMs: number[] = [];
    const watchMs: number[] = [];
    for (let i = 0; i < CHANGES; i++) {
      const phase = i % 2 === 0 ? 'SHUTOFF' : 'ACTIVE';
      await page.evaluate(
        ({ id, phase }) => {
          window.__shownAt = undefined;
          const shown = () => document.querySelector(`tr[data-id="${id}"] [data-status="${phase}"]`) !== null;
          const mo = new MutationObserver(() => {
            if (shown()) (window.__shownAt = Date.now()), mo.disconnect();
          });
          mo.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
        },
        { id: server.metadata.uid, phase },
      );
      const written = Date.now();
      const rv = ((await setPhase(phase)) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
      const shownAt = (await (await page.waitForFunction(() => window.__shownAt, undefined, { timeout: 60_000, polling: 'raf' })).jsonValue()) as number;
      const delivered = await until(() => seen.get(rv), `the watch event of change ${i}`, 30_000, 1);
      pageMs.push(shownAt - written);
      watchMs.push(delivered - written);
    }
    watch.abort();
    const line = (what: string, xs: number[]) => `${what}: p50 ${ms(pct(xs, 50))} ms, p99 ${ms(pct(xs, 99))} ms`;
    console.log(line(`status change shown in the open page (${CHANGES} changes)`, pageMs));
    console.log(line('the same changes delivered to a plain watch (baseline)', watchMs));
    console.log(`ratio page/watch: p50 ${(pct(pageMs, 50) / Math.max(pct(watchMs, 50), 0.01)).toFixed(1)}x, p99 ${(pct(pageMs, 99) / Math.max(pct(watchMs, 99), 0.01)).toFixed(1)}x; within a second: ${pageMs.filter((x) => x < 1000).length} of ${CHANGES}`);
  } finally {
    await browser.close();
    await dashboard.close();
    await compute.close();
    await identity.stop();
  }
}

await main();
process.exit(0);
