/**
 * The dashboard in a real Chromium against `stratus up`: a member signs in, launches a server from the wizard
 * and sees it become ACTIVE without reloading, reads its log, sees its screen drawn through the console proxy,
 * its YAML as kubectl prints it, uploads an image with progress, takes a volume's snapshot and backup and restores
 * the backup, makes a volume group, its group snapshot and a group from that, a subnet, a router, a floating IP and a security
 * group rule, stops and deletes the server, changes a member's password; never sees
 * another project's servers or the admin pages. Console tokens are single-use and expire; writes need the
 * CSRF token; names that look like markup are shown as text; every main page passes axe-core (no serious or
 * critical violations) and is saved as a screenshot.
 */
import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import WebSocket from 'ws';
import { parse } from 'yaml';
import { eventually } from '@stratus/apiserver';
import { startCloud, type RunningCloud } from '@stratus/cli';
import { runKubectl } from './lib/cluster.js';
import { launchChromium, screenshot, seriousViolations, type PageWindow } from './lib/browser.js';
import { serveTestImage, type ServedImage } from './lib/testImage.js';
import { openstack, openstackJson, openstackOk, uploadTestImage, itAskedNothingTheChartRefuses } from './lib/up.js';

// The page's globals, for the code run in the browser.
declare const window: PageWindow;
declare const history: { pushState(data: unknown, unused: string, url: string): void };
declare const Event: new (type: string) => unknown;
interface HTMLCanvasElement {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
}

/** Console tokens live this long in this cloud: long enough for a loaded machine to open the page, short enough to wait out. */
const CONSOLE_TTL_SECONDS = 30;
const XSS_NAME = 'web <img src=x onerror="window.__xss=1">';

describe('the dashboard in a browser', function () {
  this.timeout(900_000);
  let cloud: RunningCloud;
  let image: ServedImage;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let gateway: string;
  let serverId: string;
  let serverObject: string;
  const member = (user: string, project: string) => ({ OS_CLOUD: '', OS_CLIENT_CONFIG_FILE: '/dev/null', OS_AUTH_URL: cloud.admin().authUrl, OS_USERNAME: user, OS_PASSWORD: `${user}-pw-1`, OS_PROJECT_NAME: project, OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_NAME: 'Default', OS_IDENTITY_API_VERSION: '3' });
  const as = async (user: string, project: string, args: string[]) => {
    const r = await openstack(cloud, args, member(user, project));
    assert.equal(r.code, 0, `openstack ${args.join(' ')} as ${user}: ${r.stderr}`);
    return r.stdout;
  };
  const os = (...args: string[]) => openstackOk(cloud, args);
  const accessible = async (p: Page, name: string) => {
    await screenshot(p, name);
    const violations = await seriousViolations(p);
    assert.deepEqual(violations, [], `axe-core on ${name}: ${JSON.stringify(violations, null, 1)}`);
  };
  const nav = async (title: string) => {
    await page.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name: title, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: title }).waitFor();
  };
  const signIn = async (p: Page, user: string, password: string) => {
    await p.goto(`${gateway}/`);
    await p.fill('#username', user);
    await p.fill('#password', password);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByTestId('user-name').waitFor();
  };

  before(async () => {
    image = await serveTestImage();
    cloud = await startCloud(undefined, undefined, { env: { CONSOLE_TOKEN_TTL_SECONDS: String(CONSOLE_TTL_SECONDS) } });
    gateway = /Dashboard: (http:\/\/\S+)\/dashboard\//.exec(cloud.output())![1];
    await uploadTestImage(cloud, image.path);
    for (const [user, project] of [['alice', 'demo'], ['bob', 'other']]) {
      await os('project', 'create', project);
      await os('user', 'create', '--password', `${user}-pw-1`, '--project', project, user);
      await os('role', 'add', '--project', project, '--user', user, 'member');
    }
    await os('quota', 'set', '--instances', '5', '--cores', '4', '--ram', '2048', 'demo');
    await os('flavor', 'create', '--vcpus', '8', '--ram', '256', '--disk', '1', 'm1.huge');
    // Another tenant's server: alice must never see it.
    await eventually('bob can sign in', async () => (await openstack(cloud, ['token', 'issue'], member('bob', 'other'))).code === 0, 60_000, 500);
    await as('bob', 'other', ['server', 'create', '--flavor', 'm1.tiny', '--image', 'stratus-test', 'bobs-secret-server']);
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    page = await context.newPage();
    await page.addInitScript(() => (window.__loaded = Date.now()));
  });
  after(async () => {
    await browser?.close();
    await cloud?.stop();
    await cloud?.remove();
    image?.close();
  });

  it('has an accessibility check that finds what it should (so its silence below means something)', async () => {
    const p = await context.newPage();
    await p.setContent('<!doctype html><html><body><img src="x.png"><input type="text"></body></html>');
    const found = (await seriousViolations(p)).map((v) => v.id);
    assert.ok(found.includes('image-alt'), `axe-core missed an image without alt text: ${found}`);
    await p.close();
  });

  it('signs a member in and shows their quota usage as charts', async () => {
    await signIn(page, 'alice', 'alice-pw-1');
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.locator('[data-quota=Instances]').waitFor();
    assert.match(await page.locator('[data-quota=Instances]').innerText(), /0 of 5/);
    assert.match(await page.locator('[data-quota=vCPUs]').innerText(), /0 of 4/);
    assert.match(await page.locator('[data-quota=RAM]').innerText(), /0 MiB of 2048 MiB/);
    await accessible(page, 'overview');
  });

  it("never shows a member another project's servers or the admin pages", async () => {
    await nav('Instances');
    await page.getByRole('grid', { name: 'Instances' }).or(page.getByText('No instances')).first().waitFor();
    assert.equal(await page.getByText('bobs-secret-server').count(), 0);
    assert.equal(await page.getByRole('link', { name: 'Hypervisors' }).count(), 0, 'no admin navigation');
    await page.evaluate(() => (history.pushState(null, '', '/dashboard/admin/hypervisors'), window.dispatchEvent(new Event('popstate'))));
    await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
    // And the API says no too, as the dashboard shows it.
    const status = await page.evaluate(async () => (await fetch('/dashboard/api/os/compute/os-hypervisors')).status);
    assert.equal(status, 403);
    const bobs = (await openstackJson(cloud, ['server', 'list', '--all-projects', '--name', 'bobs-secret-server']))[0].ID;
    assert.equal(await page.evaluate(async (id) => (await fetch(`/dashboard/api/yaml/servers/${id}`)).status, bobs), 404, "another project's YAML is not found");
  });

  it("shows the API's refusal as the API said it: a launch over the project's quota", async () => {
    await nav('Instances');
    const cli = await openstack(cloud, ['server', 'create', '--flavor', 'm1.huge', '--image', 'stratus-test', 'too-big'], member('alice', 'demo'));
    assert.notEqual(cli.code, 0);
    const said = /Quota exceeded[^(\n]*/.exec(cli.stderr)?.[0].trim();
    assert.ok(said, `the CLI shows Nova's refusal: ${cli.stderr}`);
    await page.getByRole('button', { name: 'Launch instance' }).click();
    await page.fill('#launch-name', 'too-big');
    const next = () => page.getByRole('button', { name: 'Next', exact: true }).click();
    await next();
    await page.selectOption('#launch-image', { label: 'stratus-test' });
    await next();
    await page.selectOption('#launch-flavor', { value: 'm1.huge' });
    await next();
    await next();
    await next();
    await page.getByRole('button', { name: 'Launch', exact: true }).click();
    const alert = page.getByTestId('api-error');
    await alert.waitFor();
    assert.ok((await alert.innerText()).includes(said), `the wizard shows ${said}: ${await alert.innerText()}`);
    await screenshot(page, 'launch-refused');
    await page.getByRole('button', { name: 'Close the launch wizard' }).click();
  });

  it('launches a server from the wizard and shows it ACTIVE without reloading', async () => {
    await nav('Instances');
    const loadedAt = await page.evaluate(() => window.__loaded);
    await page.getByRole('button', { name: 'Launch instance' }).click();
    await page.fill('#launch-name', XSS_NAME);
    await screenshot(page, 'launch-wizard');
    const next = () => page.getByRole('button', { name: 'Next', exact: true }).click();
    await next();
    await page.selectOption('#launch-image', { label: 'stratus-test' });
    await next();
    await page.selectOption('#launch-flavor', { value: 'm1.tiny' });
    await next();
    await next();
    await next();
    await page.fill('#launch-user-data', '#!/bin/sh\necho hello\n');
    await page.getByRole('button', { name: 'Launch', exact: true }).click();
    const row = page.getByRole('row').filter({ hasText: 'onerror' });
    await row.waitFor({ timeout: 60_000 });
    await row.locator('[data-status=ACTIVE]').waitFor({ timeout: 300_000 });
    assert.equal(await page.evaluate(() => window.__loaded), loadedAt, 'the page was never reloaded');
    serverId = (await row.getAttribute('data-id'))!;
    assert.equal((await openstackJson(cloud, ['server', 'show', serverId])).status, 'ACTIVE', 'the CLI agrees');
    // A name that looks like markup is text: shown as typed, never run.
    assert.equal(await row.getByRole('link').innerText(), XSS_NAME);
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    await accessible(page, 'instances');
  });

  it("shows the server's log, its screen through the console, its events, and its YAML as kubectl does", async () => {
    await page.getByRole('row').filter({ hasText: 'onerror' }).getByRole('link').click();
    await page.getByRole('tab', { name: 'Overview' }).waitFor();
    await accessible(page, 'instance-overview');
    await page.getByRole('tab', { name: 'Log' }).click();
    await eventually('the READY marker in the Log tab', async () => {
      await page.getByRole('button', { name: 'Refresh' }).click();
      await page.waitForTimeout(300);
      return /STRATUS-TEST-IMAGE-READY/.test(await page.getByTestId('console-log').innerText());
    }, 300_000, 2000);
    await screenshot(page, 'instance-log');

    await page.getByRole('tab', { name: 'Console' }).click();
    const frame = page.frameLocator('[data-testid=console-frame]');
    await frame.locator('body[data-state=connected]').waitFor({ timeout: 60_000 });
    const painted = async () =>
      frame.locator('canvas').evaluate((c: HTMLCanvasElement) => {
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let lit = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] > 0) lit++;
        return lit;
      });
    await eventually("the guest's screen drawn on the canvas", async () => (await painted()) > 100, 60_000, 500);
    await screenshot(page, 'instance-console');

    await page.getByRole('tab', { name: 'Events' }).click();
    await page.getByRole('grid', { name: 'Events' }).waitFor();
    assert.ok((await page.getByRole('grid', { name: 'Events' }).getByRole('row').count()) > 1, 'the server has events');
    await accessible(page, 'instance-events');

    await page.getByRole('tab', { name: 'YAML' }).click();
    const obj = (await runKubectl(cloud.kubeconfig, cloud.dir, ['get', 'instances', '-A', '-o', 'json'])).stdout;
    const name = JSON.parse(obj).items.find((i: { metadata: { uid: string } }) => i.metadata.uid === serverId).metadata;
    serverObject = name.name;
    await eventually('the YAML tab to show what kubectl shows', async () => {
      const kubectl = (await runKubectl(cloud.kubeconfig, cloud.dir, ['get', 'instance', '-n', name.namespace, name.name, '-o', 'yaml'])).stdout;
      await page.getByRole('tab', { name: 'Overview' }).click();
      await page.getByRole('tab', { name: 'YAML' }).click();
      const shown = await page.getByTestId('yaml').innerText();
      if (!shown) return false;
      // The same text, byte for byte, as long as the object did not change between the two reads.
      if (parse(kubectl).metadata.resourceVersion !== parse(shown).metadata.resourceVersion) return false;
      assert.equal(shown.trimEnd(), kubectl.trimEnd());
      return true;
    }, 60_000, 1000);
    await screenshot(page, 'instance-yaml');
  });

  it('hands out single-use console URLs that expire, and refuses foreign tokens, with 401', async () => {
    const urlOf = async () => JSON.parse(await as('alice', 'demo', ['console', 'url', 'show', '--novnc', serverId, '-f', 'json'])).url as string;
    // As noVNC (and Tempest's test_novnc) read Nova's URL: `path` is the WebSocket's path from the host's root.
    const wsOf = (consoleUrl: string) => {
      const u = new URL(consoleUrl);
      return `ws://${u.host}/${u.searchParams.get('path')!}`;
    };
    const open = (url: string) =>
      new Promise<{ banner?: string; status?: number }>((resolve) => {
        const ws = new WebSocket(url, ['binary']);
        ws.on('message', (d: Buffer) => (resolve({ banner: d.toString() }), ws.close()));
        ws.on('unexpected-response', (_q, res) => resolve({ status: res.statusCode }));
        ws.on('error', () => resolve({ status: 0 }));
      });
    const first = await urlOf();
    assert.match(first, new RegExp(`^${gateway}/console/vnc_lite\\.html\\?path=console%2Fwebsockify%3Ftoken%3D`));
    const ws = wsOf(first);
    assert.match((await open(ws)).banner ?? '', /^RFB 003\.00\d/, "the guest's VNC display answers through the gateway");
    assert.deepEqual(await open(ws), { status: 401 }, 'used once, refused after');
    assert.deepEqual(await open(ws.replace(/token=[^&]+/, `token=${randomBytes(24).toString('base64url')}`)), { status: 401 }, 'a token nobody issued');
    const stale = wsOf(await urlOf());
    await new Promise((r) => setTimeout(r, (CONSOLE_TTL_SECONDS + 1) * 1000));
    assert.deepEqual(await open(stale), { status: 401 }, `a token older than ${CONSOLE_TTL_SECONDS} s`);
    // bob cannot have a console URL of alice's server at all.
    const r = await openstack(cloud, ['console', 'url', 'show', serverId], member('bob', 'other'));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /No Server found|could not be found|404/);
  });

  it('needs the CSRF token for writes the page makes', async () => {
    const answer = await page.evaluate(async (id) => {
      const res = await fetch(`/dashboard/api/os/compute/servers/${id}/action`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ 'os-stop': null }) });
      return { status: res.status, body: await res.text() };
    }, serverId);
    assert.equal(answer.status, 403);
    assert.match(answer.body, /CSRF/);
    assert.equal((await openstackJson(cloud, ['server', 'show', serverId])).status, 'ACTIVE', 'and nothing happened');
  });

  it('uploads an image from the browser with a progress bar, into the image store', async () => {
    const file = join(cloud.dir, 'upload.raw');
    const data = randomBytes(24 << 20);
    writeFileSync(file, data);
    await nav('Images');
    await page.getByRole('button', { name: 'Create image' }).click();
    await page.fill('#image-name', 'from-the-browser');
    await page.setInputFiles('#image-file-filename + * input[type=file], input[type=file]', file);
    // Every value the progress bar shows, as the browser sends the file.
    await page.evaluate(() => {
      window.__progress = [];
      new window.MutationObserver(() => {
        const v = window.document.querySelector('[data-testid=upload-progress] [role=progressbar]')?.getAttribute('aria-valuenow');
        if (v !== undefined && v !== null && window.__progress.at(-1) !== Number(v)) window.__progress.push(Number(v));
      }).observe(window.document.body, { subtree: true, childList: true, attributes: true });
    });
    await page.getByRole('dialog').getByRole('button', { name: 'Create image' }).click();
    await page.getByTestId('upload-progress').waitFor({ timeout: 60_000 });
    await screenshot(page, 'image-upload');
    const row = page.getByRole('row').filter({ hasText: 'from-the-browser' });
    await row.locator('[data-status=active]').waitFor({ timeout: 120_000 });
    const shown = await openstackJson(cloud, ['image', 'show', 'from-the-browser']);
    assert.equal(shown.checksum, createHash('md5').update(data).digest('hex'), 'the bytes the browser sent are the image');
    assert.equal(shown.size, data.length);
    const progress: number[] = await page.evaluate(() => window.__progress);
    assert.equal(progress[0], 0, `the bar starts empty: ${progress}`);
    assert.equal(progress.at(-1), 100, `and ends full: ${progress}`);
    await accessible(page, 'images');
  });

  it('stops and deletes the server from the page, and the list follows', async () => {
    await nav('Instances');
    const row = page.getByRole('row').filter({ hasText: 'onerror' });
    await row.getByRole('button', { name: 'Kebab toggle' }).click();
    await page.getByRole('menuitem', { name: 'Stop' }).click();
    await row.locator('[data-status=SHUTOFF]').waitFor({ timeout: 180_000 });
    await row.getByRole('button', { name: 'Kebab toggle' }).click();
    await page.getByRole('menuitem', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await row.waitFor({ state: 'detached', timeout: 180_000 });
    await eventually('the server gone from the CLI too', async () => (await openstack(cloud, ['server', 'show', serverId])).code !== 0, 120_000, 1000);
    const left = await runKubectl(cloud.kubeconfig, cloud.dir, ['get', 'instance', '-n', 'demo', serverObject]);
    assert.notEqual(left.code, 0, 'and its Instance');
  });

  it("takes a volume's snapshot and backup from their pages, restores the backup into a new volume, and deletes them, the lists following live", async () => {
    const volumeId = JSON.parse(await as('alice', 'demo', ['volume', 'create', '--size', '1', '-f', 'json', 'dash-vol'])).id as string;
    await eventually('the volume available', async () => JSON.parse(await as('alice', 'demo', ['volume', 'show', '-f', 'json', volumeId])).status === 'available', 180_000, 1000);
    const loadedAt = await page.evaluate(() => window.__loaded);
    const dialog = page.getByRole('dialog');

    await nav('Volume snapshots');
    await page.getByRole('button', { name: 'Create snapshot' }).click();
    await page.selectOption('#snapshot-volume', { label: 'dash-vol (available)' });
    await page.fill('#snapshot-name', 'dash-snap');
    await dialog.getByRole('button', { name: 'Create snapshot' }).click();
    const snapRow = page.getByRole('row').filter({ hasText: 'dash-snap' });
    await snapRow.locator('[data-status=available]').waitFor({ timeout: 180_000 });
    await snapRow.getByText('dash-vol', { exact: true }).waitFor({ timeout: 30_000 }); // the row names its volume
    const snapshotId = (await snapRow.getAttribute('data-id'))!;
    assert.equal(JSON.parse(await as('alice', 'demo', ['volume', 'snapshot', 'show', '-f', 'json', snapshotId])).volume_id, volumeId, 'the CLI agrees');
    await accessible(page, 'volume-snapshots');

    await nav('Volume backups');
    await page.getByRole('button', { name: 'Create backup' }).click();
    await page.selectOption('#backup-volume', { label: 'dash-vol (available)' });
    await page.fill('#backup-name', 'dash-backup');
    await dialog.getByRole('button', { name: 'Create backup' }).click();
    const backupRow = page.getByRole('row').filter({ hasText: 'dash-backup' });
    await backupRow.locator('[data-status=available]').waitFor({ timeout: 300_000 });
    await backupRow.getByText('dash-vol', { exact: true }).waitFor({ timeout: 30_000 });
    const backupId = (await backupRow.getAttribute('data-id'))!;
    const shown = JSON.parse(await as('alice', 'demo', ['volume', 'backup', 'show', '-f', 'json', backupId]));
    assert.deepEqual([shown.status, shown.volume_id], ['available', volumeId], 'the CLI agrees');
    await accessible(page, 'volume-backups');

    await backupRow.getByRole('button', { name: 'Restore' }).click();
    await page.fill('#restore-name', 'dash-restored');
    await dialog.getByRole('button', { name: 'Restore to a new volume' }).click();
    await dialog.waitFor({ state: 'detached' });
    await nav('Volumes');
    await page.getByRole('row').filter({ hasText: 'dash-restored' }).locator('[data-status=available]').waitFor({ timeout: 300_000 });

    await nav('Volume backups');
    await backupRow.getByRole('button', { name: 'Delete' }).click();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await backupRow.waitFor({ state: 'detached', timeout: 180_000 });
    assert.notEqual((await openstack(cloud, ['volume', 'backup', 'show', backupId], member('alice', 'demo'))).code, 0, 'the backup gone from the CLI too');
    await nav('Volume snapshots');
    await snapRow.getByRole('button', { name: 'Delete' }).click();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await snapRow.waitFor({ state: 'detached', timeout: 180_000 });
    assert.equal(await page.evaluate(() => window.__loaded), loadedAt, 'the page was never reloaded');
    await as('alice', 'demo', ['volume', 'delete', volumeId, 'dash-restored']);
  });

  it("makes a volume group and its group snapshot from their pages, a group from the snapshot, and deletes them with their volumes only when asked", async () => {
    const [v313, v314] = [['--os-volume-api-version', '3.13'], ['--os-volume-api-version', '3.14']];
    await os('--os-volume-api-version', '3.11', 'volume', 'group', 'type', 'create', 'dash-gtype');
    await os('volume', 'type', 'create', 'dash-vtype');
    const loadedAt = await page.evaluate(() => window.__loaded);
    const dialog = page.getByRole('dialog');
    const volumesOf = (row: ReturnType<Page['getByRole']>) => row.locator('td[data-label="Volumes"]');

    await nav('Volume groups');
    await page.getByRole('button', { name: 'Create group' }).click();
    await page.fill('#group-name', 'dash-group');
    await page.selectOption('#group-type', { label: 'dash-gtype' });
    await dialog.getByLabel('dash-vtype').check();
    await dialog.getByRole('button', { name: 'Create group' }).click();
    const groupRow = page.getByRole('row').filter({ hasText: 'dash-group' }).filter({ hasNotText: 'dash-group-copy' });
    await groupRow.locator('[data-status=available]').waitFor({ timeout: 180_000 });
    const groupId = (await groupRow.getAttribute('data-id'))!;
    const listed = JSON.parse(await as('alice', 'demo', [...v313, 'volume', 'group', 'list', '-f', 'json'])).find((g: { ID: string }) => g.ID === groupId);
    assert.deepEqual([listed?.Name, listed?.Status], ['dash-group', 'available'], 'the CLI agrees');

    // A volume joining it with kubectl (its spec.group: Debian's OSC 6.0 has no `volume group add volume`) shows in its row, live.
    const memberId = JSON.parse(await as('alice', 'demo', ['volume', 'create', '--size', '1', '--type', 'dash-vtype', '-f', 'json', 'dash-member'])).id as string;
    await eventually('the member volume available', async () => JSON.parse(await as('alice', 'demo', ['volume', 'show', '-f', 'json', memberId])).status === 'available', 180_000, 1000);
    const objectOf = async (plural: string, uid: string) => JSON.parse((await runKubectl(cloud.kubeconfig, cloud.dir, ['get', plural, '-n', 'demo', '-o', 'json'])).stdout).items.find((o: { metadata: { uid: string } }) => o.metadata.uid === uid).metadata.name as string;
    const patched = await runKubectl(cloud.kubeconfig, cloud.dir, ['patch', 'volume', '-n', 'demo', await objectOf('volumes', memberId), '--type', 'merge', '-p', JSON.stringify({ spec: { group: await objectOf('volumegroups', groupId) } })]);
    assert.equal(patched.code, 0, patched.stderr);
    await volumesOf(groupRow).getByText('dash-member').waitFor({ timeout: 60_000 });
    await accessible(page, 'volume-groups');

    await nav('Group snapshots');
    await page.getByRole('button', { name: 'Create group snapshot' }).click();
    await page.selectOption('#group-snapshot-group', { label: 'dash-group' });
    await page.fill('#group-snapshot-name', 'dash-gsnap');
    await dialog.getByRole('button', { name: 'Create group snapshot' }).click();
    const snapRow = page.getByRole('row').filter({ hasText: 'dash-gsnap' });
    await snapRow.locator('[data-status=available]').waitFor({ timeout: 180_000 });
    await snapRow.getByText('dash-group', { exact: true }).waitFor({ timeout: 30_000 }); // the row names its group
    const snapshotId = (await snapRow.getAttribute('data-id'))!;
    const snapListed = JSON.parse(await as('alice', 'demo', [...v314, 'volume', 'group', 'snapshot', 'list', '-f', 'json'])).find((s: { ID: string }) => s.ID === snapshotId);
    assert.equal(snapListed?.Status, 'available', 'the CLI agrees');
    await accessible(page, 'group-snapshots');

    await snapRow.getByRole('button', { name: 'Create group' }).click();
    await page.fill(`#from-snapshot-name-${snapshotId}`, 'dash-group-copy');
    await dialog.getByRole('button', { name: 'Create group' }).click();
    await dialog.waitFor({ state: 'detached' });
    await nav('Volume groups');
    const copyRow = page.getByRole('row').filter({ hasText: 'dash-group-copy' });
    await copyRow.locator('[data-status=available]').waitFor({ timeout: 300_000 });
    await eventually('the copy holds a volume of the snapshot', async () => !['', '—'].includes(((await volumesOf(copyRow).textContent()) ?? '').trim()), 60_000, 500);

    await nav('Group snapshots');
    await snapRow.getByRole('button', { name: 'Delete' }).click();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await snapRow.waitFor({ state: 'detached', timeout: 180_000 });

    // Cinder keeps a group with volumes unless told to delete them: the page shows its refusal, then asks.
    await nav('Volume groups');
    await groupRow.getByRole('button', { name: 'Delete' }).click();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    assert.match((await dialog.getByTestId('api-error').textContent()) ?? '', /delete-volumes/);
    await dialog.getByLabel('Delete its volumes too').check();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await groupRow.waitFor({ state: 'detached', timeout: 180_000 });
    await copyRow.getByRole('button', { name: 'Delete' }).click();
    await dialog.getByLabel('Delete its volumes too').check();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await copyRow.waitFor({ state: 'detached', timeout: 180_000 });
    await eventually('the member volume gone with its group', async () => (await openstack(cloud, ['volume', 'show', memberId], member('alice', 'demo'))).code !== 0, 180_000, 1000);
    assert.equal(await page.evaluate(() => window.__loaded), loadedAt, 'the page was never reloaded');
  });

  it('makes a subnet, a router, a floating IP and a security group rule from their pages, the CLI agreeing, and takes them down again', async () => {
    await os('network', 'create', '--external', 'dash-public');
    await os('subnet', 'create', '--network', 'dash-public', '--subnet-range', '172.24.8.0/24', '--no-dhcp', 'dash-public-v4');
    const loadedAt = await page.evaluate(() => window.__loaded);
    const dialog = page.getByRole('dialog');
    const rowOf = (text: string) => page.getByRole('row').filter({ hasText: text });

    await nav('Networks');
    await page.getByRole('button', { name: 'Create network' }).click();
    await page.fill('#network-name', 'dash-net');
    await page.fill('#network-cidr', '10.77.0.0/24');
    await dialog.getByRole('button', { name: 'Create network' }).click();
    await rowOf('dash-net').waitFor({ timeout: 60_000 });
    const subnet = JSON.parse(await as('alice', 'demo', ['subnet', 'show', '-f', 'json', 'dash-net-subnet']));

    // A second subnet on it from the Subnets page, without DHCP or a gateway; the CLI agrees; then deleted there.
    await nav('Subnets');
    await rowOf('dash-net-subnet').getByText('10.77.0.0/24').waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Create subnet' }).click();
    await page.fill('#subnet-name', 'dash-extra');
    await page.selectOption('#subnet-network', { label: 'dash-net' });
    await page.fill('#subnet-cidr', '10.78.0.0/24');
    await page.check('#subnet-no-gateway');
    await page.uncheck('#subnet-dhcp');
    await dialog.getByRole('button', { name: 'Create subnet' }).click();
    const extraRow = rowOf('dash-extra');
    await extraRow.getByText('10.78.0.0/24').waitFor({ timeout: 60_000 });
    assert.deepEqual(await extraRow.locator('td').allTextContents().then((cells) => cells.slice(0, 5)), ['dash-extra', 'dash-net', '10.78.0.0/24', 'none', 'No']);
    const extra = JSON.parse(await as('alice', 'demo', ['subnet', 'show', '-f', 'json', 'dash-extra']));
    assert.deepEqual([extra.network_id, extra.cidr, extra.gateway_ip, extra.enable_dhcp], [subnet.network_id, '10.78.0.0/24', null, false], 'the CLI sees it as made');
    await accessible(page, 'subnets');
    await extraRow.getByRole('button', { name: 'Delete' }).click();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await extraRow.waitFor({ state: 'detached', timeout: 60_000 });
    assert.notEqual((await openstack(cloud, ['subnet', 'show', 'dash-extra'], member('alice', 'demo'))).code, 0, 'deleted for the CLI too');

    // A router with its gateway on the external network, then the project's subnet on it.
    await nav('Routers');
    await page.getByRole('button', { name: 'Create router' }).click();
    await page.fill('#router-name', 'dash-router');
    await page.selectOption('#router-external', { label: 'dash-public' });
    await dialog.getByRole('button', { name: 'Create router' }).click();
    const routerRow = rowOf('dash-router');
    await routerRow.getByText(/^dash-public 172\.24\.8\.\d+$/).waitFor({ timeout: 60_000 });
    await routerRow.getByRole('button', { name: 'Add interface' }).click();
    await page.selectOption('#interface-subnet', { label: 'dash-net-subnet (10.77.0.0/24)' });
    await dialog.getByRole('button', { name: 'Add interface' }).click();
    await dialog.waitFor({ state: 'detached' });
    const interfaces = async () => JSON.stringify(JSON.parse(await as('alice', 'demo', ['router', 'show', '-f', 'json', 'dash-router'])).interfaces_info ?? []);
    assert.match(await interfaces(), new RegExp(subnet.id), 'the CLI shows the subnet on the router');
    await accessible(page, 'routers');

    // A floating IP from the external network, onto a port of the project's, and off again.
    const port = JSON.parse(await as('alice', 'demo', ['port', 'create', '--network', 'dash-net', '-f', 'json', 'dash-port']));
    const fixed = /10\.77\.0\.\d+/.exec(JSON.stringify(port.fixed_ips))![0];
    await nav('Floating IPs');
    await page.getByRole('button', { name: 'Allocate IP' }).click();
    await page.selectOption('#floating-network', { label: 'dash-public' });
    await dialog.getByRole('button', { name: 'Allocate IP' }).click();
    const ipRow = rowOf('172.24.8.');
    await ipRow.getByRole('button', { name: 'Associate' }).waitFor({ timeout: 60_000 });
    const floatingId = (await ipRow.getAttribute('data-id'))!;
    await ipRow.getByRole('button', { name: 'Associate' }).click();
    await page.selectOption('#floating-port', { label: `dash-port: ${fixed}` });
    await dialog.getByRole('button', { name: 'Associate' }).click();
    await ipRow.getByText(fixed, { exact: true }).waitFor({ timeout: 60_000 });
    assert.equal(JSON.parse(await as('alice', 'demo', ['floating', 'ip', 'show', '-f', 'json', floatingId])).port_id, port.id, 'the CLI agrees');
    await accessible(page, 'floating-ips');
    await ipRow.getByRole('button', { name: 'Disassociate' }).click();
    await dialog.getByRole('button', { name: 'Disassociate' }).click();
    await ipRow.getByRole('button', { name: 'Associate' }).waitFor({ timeout: 60_000 });
    await ipRow.getByRole('button', { name: 'Release' }).click();
    await dialog.getByRole('button', { name: 'Release' }).click();
    await ipRow.waitFor({ state: 'detached', timeout: 60_000 });
    assert.notEqual((await openstack(cloud, ['floating', 'ip', 'show', floatingId], member('alice', 'demo'))).code, 0, 'released for the CLI too');

    // A security group and an SSH rule; a port that is not one is refused in the dialog, before any request.
    await nav('Security groups');
    await page.getByRole('button', { name: 'Create security group' }).click();
    await page.fill('#security-group-name', 'dash-sg');
    await dialog.getByRole('button', { name: 'Create security group' }).click();
    const sgRow = rowOf('dash-sg');
    await sgRow.getByRole('button', { name: 'Add rule' }).click();
    await page.fill('#rule-ports', 'ssh');
    await dialog.getByRole('button', { name: 'Add rule' }).click();
    assert.match((await dialog.getByTestId('api-error').textContent()) ?? '', /"ssh" is not a port/);
    await page.fill('#rule-ports', '22');
    await dialog.getByRole('button', { name: 'Add rule' }).click();
    const sshRule = sgRow.locator('li').filter({ hasText: 'ingress tcp 22 from 0.0.0.0/0' });
    await sshRule.waitFor({ timeout: 60_000 });
    const rules = JSON.parse(await as('alice', 'demo', ['security', 'group', 'rule', 'list', '-f', 'json', 'dash-sg']));
    assert.ok(rules.some((r: Record<string, string>) => r['Port Range'] === '22:22' && r['IP Range'] === '0.0.0.0/0'), `the CLI lists the rule: ${JSON.stringify(rules)}`);
    // A rule from another group's servers: named by that group's name, for the CLI its ID.
    await sgRow.getByRole('button', { name: 'Add rule' }).click();
    await page.selectOption('#rule-protocol', 'any');
    await page.selectOption('#rule-remote-kind', 'group');
    await page.selectOption('#rule-remote-group', { label: 'default' });
    await dialog.getByRole('button', { name: 'Add rule' }).click();
    await sgRow.locator('li').filter({ hasText: 'ingress any from group default IPv4' }).waitFor({ timeout: 60_000 });
    const defaultId = JSON.parse(await as('alice', 'demo', ['security', 'group', 'show', '-f', 'json', 'default'])).id;
    const withGroup = JSON.parse(await as('alice', 'demo', ['security', 'group', 'rule', 'list', '-f', 'json', '--long', 'dash-sg']));
    assert.ok(withGroup.some((r: Record<string, string>) => r['Remote Security Group'] === defaultId && r.Direction === 'ingress'), `the CLI lists the group rule: ${JSON.stringify(withGroup)}`);
    await accessible(page, 'security-groups');
    await sshRule.getByRole('button', { name: 'Delete rule' }).click();
    await dialog.getByRole('button', { name: 'Delete rule' }).click();
    await sshRule.waitFor({ state: 'detached', timeout: 60_000 });
    await sgRow.getByRole('button', { name: 'Delete', exact: true }).click();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await sgRow.waitFor({ state: 'detached', timeout: 60_000 });

    await as('alice', 'demo', ['port', 'delete', 'dash-port']);
    await nav('Routers');
    await routerRow.getByRole('button', { name: 'Remove interface' }).click();
    await page.selectOption('#interface-subnet', { label: 'dash-net-subnet (10.77.0.0/24)' });
    await dialog.getByRole('button', { name: 'Remove interface' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.doesNotMatch(await interfaces(), new RegExp(subnet.id), 'the subnet off the router for the CLI too');
    await routerRow.getByRole('button', { name: 'Delete', exact: true }).click();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await routerRow.waitFor({ state: 'detached', timeout: 60_000 });
    await nav('Networks');
    await rowOf('dash-net').getByRole('button', { name: 'Delete' }).click();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await rowOf('dash-net').waitFor({ state: 'detached', timeout: 60_000 });
    assert.equal(await page.evaluate(() => window.__loaded), loadedAt, 'the page was never reloaded');
  });

  it('shows the other main pages accessibly', async () => {
    for (const title of ['Volumes', 'Networks', 'Key pairs', 'Flavors']) {
      await nav(title);
      await page.waitForTimeout(300);
      await accessible(page, title.toLowerCase().replace(' ', '-'));
    }
  });

  it("changes a member's own password from the header: a mismatch and a wrong current password are shown, then only the new one signs in", async () => {
    const bobContext = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const p = await bobContext.newPage();
    await signIn(p, 'bob', 'bob-pw-1');
    await p.getByRole('button', { name: 'Change password' }).click();
    const dialog = p.getByRole('dialog');
    await p.fill('#password-current', 'bob-pw-1');
    await p.fill('#password-new', 'bob-pw-2');
    await p.fill('#password-again', 'bob-pw-3');
    await dialog.getByRole('button', { name: 'Change password' }).click();
    assert.match((await dialog.getByTestId('api-error').textContent()) ?? '', /differ/, 'a mismatch is caught before any request');
    await p.fill('#password-again', 'bob-pw-2');
    await p.fill('#password-current', 'not-it');
    await dialog.getByRole('button', { name: 'Change password' }).click();
    await dialog.getByTestId('api-error').filter({ hasText: 'The original password is not correct.' }).waitFor();
    assert.equal(await p.getByTestId('user-name').count(), 1, "Keystone's refusal does not sign the user out");
    await accessible(p, 'change-password');
    await p.fill('#password-current', 'bob-pw-1');
    await dialog.getByRole('button', { name: 'Change password' }).click();
    await p.getByTestId('login-notice').filter({ hasText: 'Your password was changed' }).waitFor();
    assert.notEqual((await openstack(cloud, ['token', 'issue'], member('bob', 'other'))).code, 0, 'the old password no longer works for the CLI');
    assert.equal((await openstack(cloud, ['token', 'issue'], { ...member('bob', 'other'), OS_PASSWORD: 'bob-pw-2' })).code, 0, 'the new one does');
    await signIn(p, 'bob', 'bob-pw-2');
    await bobContext.close();
    await os('user', 'set', '--password', 'bob-pw-1', 'bob');
  });

  it('signs out by revoking the token: the old cookie no longer works', async () => {
    const cookie = (await context.cookies()).find((c) => c.name === 'stratus_session');
    assert.ok(cookie?.httpOnly, 'the session cookie is HttpOnly');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await accessible(page, 'sign-in');
    const replay = await fetch(`${gateway}/dashboard/api/session`, { headers: { Cookie: `stratus_session=${cookie!.value}` } });
    assert.equal(replay.status, 401);
  });

  it('shows an admin the hypervisors, identity and group types pages: makes a project and a user with a role, disables, enables and deletes them; makes and deletes a group type', async () => {
    const adminContext = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const p = await adminContext.newPage();
    await signIn(p, 'admin', cloud.admin().password);
    await p.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name: 'Hypervisors' }).click();
    await p.getByRole('grid', { name: 'Hypervisors' }).getByText('UP', { exact: false }).first().waitFor({ timeout: 60_000 });
    await accessible(p, 'admin-hypervisors');
    await p.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name: 'Identity' }).click();
    await p.getByRole('grid', { name: 'Projects' }).getByText('demo', { exact: true }).waitFor();
    await accessible(p, 'admin-identity');
    await p.getByRole('tab', { name: 'Role assignments' }).click();
    await p.getByRole('grid', { name: 'Role assignments' }).getByText('alice', { exact: true }).waitFor();

    // A project and a user on it with a role, made here; the CLI agrees, the user signs in until disabled; all taken down.
    const dialogOf = p.getByRole('dialog');
    const dashUser = (pw: string) => ({ ...member('dash-user', 'dash-made'), OS_PASSWORD: pw });
    await p.getByRole('tab', { name: 'Projects' }).click();
    await p.getByRole('button', { name: 'Create project' }).click();
    await p.fill('#project-name', 'dash-made');
    await dialogOf.getByRole('button', { name: 'Create project' }).click();
    const projectRow = p.getByRole('grid', { name: 'Projects' }).getByRole('row').filter({ hasText: 'dash-made' });
    await projectRow.waitFor({ timeout: 60_000 });
    await p.getByRole('tab', { name: 'Users' }).click();
    await p.getByRole('button', { name: 'Create user' }).click();
    await p.fill('#user-name', 'dash-user');
    await p.fill('#user-password', 'dash-user-pw');
    await p.selectOption('#user-project', { label: 'dash-made' });
    await p.selectOption('#user-role', { label: 'member' });
    await dialogOf.getByRole('button', { name: 'Create user' }).click();
    const userRow = p.getByRole('grid', { name: 'Users' }).getByRole('row').filter({ hasText: 'dash-user' });
    await userRow.waitFor({ timeout: 60_000 });
    await eventually('the new user signs in to its project with the CLI', async () => (await openstack(cloud, ['token', 'issue'], dashUser('dash-user-pw'))).code === 0, 60_000, 500);
    await accessible(p, 'admin-identity-users');
    await userRow.getByRole('button', { name: 'Disable' }).click();
    await userRow.getByRole('button', { name: 'Enable' }).waitFor({ timeout: 60_000 });
    assert.notEqual((await openstack(cloud, ['token', 'issue'], dashUser('dash-user-pw'))).code, 0, 'a disabled user does not sign in');
    await userRow.getByRole('button', { name: 'Enable' }).click();
    await userRow.getByRole('button', { name: 'Disable' }).waitFor({ timeout: 60_000 });
    await p.getByRole('tab', { name: 'Role assignments' }).click();
    const grantRow = p.getByRole('grid', { name: 'Role assignments' }).getByRole('row').filter({ hasText: 'dash-user' });
    await grantRow.getByText('dash-made').waitFor({ timeout: 60_000 });
    await grantRow.getByRole('button', { name: 'Remove' }).click();
    await dialogOf.getByRole('button', { name: 'Remove' }).click();
    await grantRow.waitFor({ state: 'detached', timeout: 60_000 });
    assert.equal(JSON.parse(await openstackOk(cloud, ['role', 'assignment', 'list', '--user', 'dash-user', '-f', 'json'])).length, 0, 'the CLI lists no role for the user');
    await p.getByRole('tab', { name: 'Users' }).click();
    await userRow.getByRole('button', { name: 'Delete' }).click();
    await dialogOf.getByRole('button', { name: 'Delete' }).click();
    await userRow.waitFor({ state: 'detached', timeout: 60_000 });
    await p.getByRole('tab', { name: 'Projects' }).click();
    await projectRow.getByRole('button', { name: 'Delete' }).click();
    await dialogOf.getByRole('button', { name: 'Delete' }).click();
    await projectRow.waitFor({ state: 'detached', timeout: 60_000 });
    assert.notEqual((await openstack(cloud, ['project', 'show', 'dash-made'])).code, 0, 'the project is gone for the CLI too');

    // Group types: a line that is not key=value is refused in the dialog; then made, private, with its specs; deleted.
    await p.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name: 'Group types' }).click();
    await p.getByRole('heading', { level: 1, name: 'Group types' }).waitFor();
    await p.getByRole('button', { name: 'Create group type' }).click();
    const dialog = p.getByRole('dialog');
    await p.fill('#group-type-name', 'dash-private-gtype');
    await p.fill('#group-type-specs', 'consistent_group_snapshot_enabled=<is> True\nfast');
    await dialog.getByRole('button', { name: 'Create group type' }).click();
    assert.match((await dialog.getByTestId('api-error').textContent()) ?? '', /"fast" is not/);
    await p.fill('#group-type-specs', 'consistent_group_snapshot_enabled=<is> True');
    await dialog.getByLabel('Public (every project may use it)').uncheck();
    await dialog.getByRole('button', { name: 'Create group type' }).click();
    const typeRow = p.getByRole('row').filter({ hasText: 'dash-private-gtype' });
    await typeRow.getByText('consistent_group_snapshot_enabled=<is> True').waitFor({ timeout: 60_000 });
    const typeId = (await typeRow.getAttribute('data-id'))!;
    const listed = JSON.parse(await openstackOk(cloud, ['--os-volume-api-version', '3.11', 'volume', 'group', 'type', 'list', '-f', 'json'])).find((t: { ID: string }) => t.ID === typeId);
    assert.deepEqual([listed?.Name, listed?.['Is Public']], ['dash-private-gtype', false], 'the CLI agrees');
    const seenByMember = JSON.parse(await as('alice', 'demo', ['--os-volume-api-version', '3.11', 'volume', 'group', 'type', 'list', '-f', 'json']));
    assert.ok(!seenByMember.some((t: { ID: string }) => t.ID === typeId), 'a private group type is not listed to members');
    await accessible(p, 'admin-group-types');
    await typeRow.getByRole('button', { name: 'Delete' }).click();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await typeRow.waitFor({ state: 'detached', timeout: 60_000 });
    await adminContext.close();
  });

  it("lets an admin change a project's compute, volume and network quotas from one page, refusing what is not a limit", async () => {
    const adminContext = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const p = await adminContext.newPage();
    await signIn(p, 'admin', cloud.admin().password);
    await p.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name: 'Quotas' }).click();
    await p.selectOption('#quota-project', { label: 'demo' });
    const limit = (label: string) => p.getByRole('textbox', { name: `${label} limit`, exact: true });
    await limit('vCPUs').waitFor({ timeout: 60_000 });
    assert.equal(await limit('vCPUs').inputValue(), '4', 'the limit set with the CLI');
    await limit('vCPUs').fill('lots');
    await p.getByRole('button', { name: 'Save quotas' }).click();
    await p.getByTestId('api-error').filter({ hasText: 'vCPUs: "lots" is not a limit' }).waitFor();
    await limit('vCPUs').fill('6');
    await limit('Ports').fill('40');
    await limit('Volumes').fill('-1');
    await p.getByRole('button', { name: 'Save quotas' }).click();
    await p.getByTestId('quota-saved').waitFor({ timeout: 60_000 });
    assert.equal(await limit('vCPUs').inputValue(), '6', 'read back after the save');
    assert.equal(await p.getByTestId('api-error').count(), 0, 'the refusal before is gone');
    await accessible(p, 'admin-quotas');
    const shown = JSON.parse(await openstackOk(cloud, ['quota', 'show', '-f', 'json', 'demo']));
    assert.deepEqual([shown.cores, shown.ports, shown.volumes], [6, 40, -1], 'the CLI sees each service\'s new limit');
    await openstackOk(cloud, ['quota', 'set', '--cores', '4', 'demo']);
    await adminContext.close();
  });

  itAskedNothingTheChartRefuses(() => cloud);
});
