/**
 * Transfers that never end: an upload whose client stops sending is abandoned after the idle timeout (the
 * image killed, nothing kept), and data changed behind Glance's back is not served as the image's.
 */
import { strict as assert } from 'node:assert';
import http from 'node:http';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { IMAGES, keyFromLocation, type Image } from '../src/index.js';
import { BUCKET, startGlanceEnv, type GlanceEnv } from './support.js';

describe('Glance transfers that stall or do not match', function () {
  this.timeout(120_000);
  let env: GlanceEnv;
  before(async () => (env = await startGlanceEnv({ uploadIdleSeconds: 1 })));
  after(() => env?.stop());

  const create = async () => {
    const r = await fetch(`${env.v2}/images`, { method: 'POST', headers: { 'X-Auth-Token': env.adminToken, 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'stalled', disk_format: 'raw', container_format: 'bare' }) });
    assert.equal(r.status, 201);
    return ((await r.json()) as { id: string }).id;
  };
  const image = (id: string) => env.identity.client.get<Image>(IMAGES, 'admin', id);
  async function until(id: string, what: string, ok: (i: Image | undefined) => boolean): Promise<Image | undefined> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const i = await image(id);
      if (ok(i)) return i;
      if (Date.now() > deadline) throw new Error(`image ${id} never became ${what}: ${JSON.stringify(i?.status)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('abandons an upload that declares 5 MB and stops after 100 kB: killed, no object, no parts', async () => {
    const id = await create();
    const before = await env.objects();
    const url = new URL(`${env.v2}/images/${id}/file`);
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'PUT', headers: { 'X-Auth-Token': env.adminToken, 'Content-Type': 'application/octet-stream', 'Content-Length': String(5 * 1024 * 1024) } });
    const ended = new Promise<string>((resolve) => {
      req.on('response', (res) => resolve(`answered ${res.statusCode}`));
      req.on('error', (e) => resolve(`closed: ${e.message}`));
    });
    req.write(Buffer.alloc(100 * 1024));
    // ...and nothing more: the server gives up after its idle timeout, not the client.
    const killed = await until(id, 'killed', (i) => i?.status?.phase === 'killed');
    assert.equal(killed!.status?.conditions?.find((c) => c.type === 'Stalled')?.reason, 'Interrupted', JSON.stringify(killed!.status?.conditions));
    assert.match(await ended, /closed|answered/);
    req.destroy();
    assert.deepEqual(await env.objects(), before, 'nothing stored');
    assert.equal(env.bytesOnDisk(), 0, 'no multipart parts left on the S3 server');
  });

  it('refuses to serve data changed behind its back rather than stalling the download', async () => {
    const id = await create();
    const data = Buffer.alloc(64 * 1024, 7);
    const put = await fetch(`${env.v2}/images/${id}/file`, { method: 'PUT', headers: { 'X-Auth-Token': env.adminToken, 'Content-Type': 'application/octet-stream' }, body: data });
    assert.equal(put.status, 204);
    const key = keyFromLocation((await image(id))!.status?.location)!;
    await env.store.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: Buffer.alloc(0) }));
    const got = await fetch(`${env.v2}/images/${id}/file`, { headers: { 'X-Auth-Token': env.adminToken }, signal: AbortSignal.timeout(30_000) });
    assert.equal(got.status, 500);
    assert.match(await got.text(), /changed outside the Image service/);
  });
});
