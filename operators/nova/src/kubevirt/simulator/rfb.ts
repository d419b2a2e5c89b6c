/**
 * kubevirt-simulator's display: the server side of the Remote Framebuffer protocol (RFB 3.8, RFC 6143) over a
 * WebSocket, as virt-api's VNC subresource carries a guest's display. No guest runs behind it, so the screen is
 * blank; what is real is the protocol a VNC client (noVNC, the console proxy) speaks to it: the version and
 * security handshake, ServerInit with the screen's size and name, and framebuffer updates on request.
 */
import type { WebSocket } from 'ws';

export const SCREEN = { width: 640, height: 400 };

/** ServerInit's pixel format: 32 bits per pixel, 24 deep, little-endian true colour (RFC 6143 7.4). */
function pixelFormat(): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt8(32, 0); // bits per pixel
  b.writeUInt8(24, 1); // depth
  b.writeUInt8(0, 2); // big-endian: no
  b.writeUInt8(1, 3); // true colour
  b.writeUInt16BE(255, 4);
  b.writeUInt16BE(255, 6);
  b.writeUInt16BE(255, 8);
  b.writeUInt8(16, 10);
  b.writeUInt8(8, 11);
  b.writeUInt8(0, 12);
  return b;
}

/** The client's messages (RFC 6143 7.5) and their lengths, given what has arrived so far (undefined: wait for more). */
function messageLength(buf: Buffer): number | undefined {
  const type = buf[0];
  switch (type) {
    case 0: return 20; // SetPixelFormat
    case 2: return buf.length < 4 ? undefined : 4 + 4 * buf.readUInt16BE(2); // SetEncodings
    case 3: return 10; // FramebufferUpdateRequest
    case 4: return 8; // KeyEvent
    case 5: return 6; // PointerEvent
    case 6: return buf.length < 8 ? undefined : 8 + buf.readUInt32BE(4); // ClientCutText
    default: return -1;
  }
}

/** Serves one client until it goes; `name` is the desktop name ServerInit gives. */
export function serveBlankDisplay(ws: WebSocket, name: string): void {
  let stage: 'version' | 'security' | 'init' | 'normal' = 'version';
  let buf = Buffer.alloc(0);
  let bytesPerPixel = 4;
  const send = (b: Buffer) => ws.send(b);
  ws.binaryType = 'nodebuffer';
  send(Buffer.from('RFB 003.008\n'));
  ws.on('message', (data: Buffer) => {
    buf = Buffer.concat([buf, data]);
    for (;;) {
      if (stage === 'version') {
        if (buf.length < 12) return;
        if (!/^RFB 003\.00[378]\n$/.test(buf.subarray(0, 12).toString('latin1'))) return ws.close(1002, 'not an RFB client');
        buf = buf.subarray(12);
        stage = 'security';
        send(Buffer.from([1, 1])); // one security type: None
      } else if (stage === 'security') {
        if (buf.length < 1) return;
        if (buf[0] !== 1) return ws.close(1002, 'security type None only');
        buf = buf.subarray(1);
        stage = 'init';
        send(Buffer.from([0, 0, 0, 0])); // SecurityResult: OK
      } else if (stage === 'init') {
        if (buf.length < 1) return;
        buf = buf.subarray(1); // ClientInit's shared flag
        stage = 'normal';
        const n = Buffer.from(name, 'utf8');
        const head = Buffer.alloc(4);
        head.writeUInt16BE(SCREEN.width, 0);
        head.writeUInt16BE(SCREEN.height, 2);
        const len = Buffer.alloc(4);
        len.writeUInt32BE(n.length, 0);
        send(Buffer.concat([head, pixelFormat(), len, n]));
      } else {
        if (buf.length < 1) return;
        const length = messageLength(buf);
        if (length === -1) return ws.close(1002, `unknown RFB message ${buf[0]}`);
        if (length === undefined || buf.length < length) return;
        const msg = buf.subarray(0, length);
        buf = buf.subarray(length);
        if (msg[0] === 0) bytesPerPixel = msg.readUInt8(4) / 8;
        // A full update (not incremental): the whole blank screen, raw. Incremental ones wait for a change, which never comes.
        if (msg[0] === 3 && msg[1] === 0) {
          const { width, height } = SCREEN;
          const header = Buffer.alloc(16);
          header.writeUInt8(0, 0); // FramebufferUpdate
          header.writeUInt16BE(1, 2); // one rectangle
          header.writeUInt16BE(width, 8);
          header.writeUInt16BE(height, 10);
          header.writeInt32BE(0, 12); // raw encoding
          send(Buffer.concat([header, Buffer.alloc(width * height * bytesPerPixel)]));
        }
      }
    }
  });
}
