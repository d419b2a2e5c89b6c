/**
 * Image uploads carry a CRC32 in place of SigV4's payload hash only where the bytes cannot be changed on the way
 * (TLS, or loopback), and the S3 server still checks every byte.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ImageStore, startEmbeddedS3, type EmbeddedS3 } from '../src/index.js';
import { crc32MayReplacePayloadHash } from '../src/store/payloadSigning.js';

const MiB = 1024 * 1024;

describe('image upload payload signing', function () {
  this.timeout(60_000);

  it('leaves the payload hash to a CRC32 only under TLS or on loopback', () => {
    for (const endpoint of ['https://s3.example.com', 'https://10.0.0.5:7480', 'http://127.0.0.1:9000', 'http://127.8.9.10', 'http://localhost:9000', 'http://[::1]:9000', 'http://[::ffff:127.0.0.1]:9000'])
      assert.equal(crc32MayReplacePayloadHash(endpoint), true, endpoint);
    for (const endpoint of ['http://10.0.0.5:9000', 'http://s3.example.com', 'http://128.0.0.1:9000', 'http://127.example.com', 'http://[::2]:9000'])
      assert.equal(crc32MayReplacePayloadHash(endpoint), false, endpoint);
  });

  describe('through a recording proxy to the embedded S3 server', () => {
    let embedded: EmbeddedS3;
    let proxy: Server;
    let dir: string;
    const seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders }> = [];

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'glance-signing-'));
      embedded = await startEmbeddedS3({ directory: dir });
      const target = new URL(embedded.endpoint);
      proxy = createServer((req, res) => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers });
        const forward = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
          res.writeHead(answer.statusCode!, answer.headers);
          answer.pipe(res);
        });
        forward.on('error', () => res.destroy());
        req.pipe(forward);
      });
      await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    });
    after(async () => {
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
      await embedded.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('sends every part and a whole small image with a CRC32 and UNSIGNED-PAYLOAD, and the image arrives whole', async () => {
      const endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const store = new ImageStore({ endpoint, bucket: 'signing', accessKeyId: embedded.accessKeyId, secretAccessKey: embedded.secretAccessKey, partSize: 5 * MiB });
      try {
        await store.ensureBucket();
        const data = Buffer.alloc(12 * MiB, 7);
        data.write('the first bytes', 0);
        const stored = await store.put('big', Readable.from([data]));
        await store.put('small', Readable.from([Buffer.from('a small image')]));

        const uploads = seen.filter((r) => r.method === 'PUT' && (r.url.includes('partNumber=') || r.url.startsWith('/signing/small')));
        assert.equal(uploads.length, 4, 'three parts of 5, 5 and 2 MiB, and one whole small image');
        for (const u of uploads) {
          assert.equal(u.headers['x-amz-content-sha256'], 'UNSIGNED-PAYLOAD', u.url);
          assert.match(String(u.headers['x-amz-checksum-crc32']), /^[A-Za-z0-9+/]{6}==$/, u.url);
        }
        // Requests without a checksum keep a signed payload hash: the completion's list of parts.
        const complete = seen.find((r) => r.method === 'POST' && r.url.includes('uploadId='));
        assert.match(String(complete?.headers['x-amz-content-sha256']), /^[0-9a-f]{64}$/);

        const { body, size } = await store.get('big');
        const chunks: Buffer[] = [];
        for await (const c of body) chunks.push(c as Buffer);
        assert.equal(size, data.length);
        assert.ok(Buffer.concat(chunks).equals(data), 'the bytes read back are the bytes sent');
        assert.equal(stored.size, data.length);
      } finally {
        store.destroy();
      }
    });
  });
});
