/** The counted download stream: bytes pass unchanged, and an error or an early end on either side reaches the other. */
import { strict as assert } from 'node:assert';
import { Readable } from 'node:stream';
import { once } from 'node:events';
import { countedStream } from '../src/store/youngGarbage.js';

describe('counted image data streams', () => {
  it('passes every byte through in order', async () => {
    const parts = Array.from({ length: 200 }, (_, i) => Buffer.alloc(64 * 1024, i));
    const out: Buffer[] = [];
    for await (const c of countedStream(Readable.from(parts))) out.push(c as Buffer);
    assert.ok(Buffer.concat(out).equals(Buffer.concat(parts)));
  });

  it('gives the reader the source’s error, and stops the source when the reader goes away', async () => {
    const failing = new Readable({ read() { this.destroy(new Error('S3 connection reset')); } });
    const counted = countedStream(failing);
    counted.resume();
    const [error] = await once(counted, 'error').catch((e) => [e]);
    assert.match(String(error), /S3 connection reset/);

    const endless = new Readable({ read() { this.push(Buffer.alloc(1024)); } });
    endless.on('error', () => {}); // destroyed with "premature close": expected
    const closed = new Promise((r) => endless.on('close', r));
    const reader = countedStream(endless);
    reader.destroy(); // the client hung up
    await closed;
    assert.ok(endless.destroyed, 'the S3 response is released');
  });
});
