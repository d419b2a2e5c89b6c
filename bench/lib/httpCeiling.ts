/**
 * The ceilings of an HTTP download on this machine, each a server in a process of its own sending a page-cached
 * file to curl (a C client that costs next to nothing, saving it where the benchmark's downloads are saved), with
 * no S3, no Glance, no check:
 * - a bare Node server (1 MiB reads piped to the response): an image download, served by a Node server,
 *   cannot beat it;
 * - the kernel's own: a server handing the file to sendfile(2) (python3's os.sendfile, no copy through user
 *   space), what loopback TCP and curl reach at all, so the limit of any server.
 * And of an upload: curl sending the file to a bare Node server that writes the body to a file with fdatasync
 * before it answers (as an object store acknowledges a write), one hop and nothing else; and the same server
 * also computing Glance's checksums (md5 and sha512) of what it writes, the least an Image API upload does.
 */
import { execFile, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

const NODE_SERVER = `
import { createServer } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
const file = process.argv[1];
const server = createServer((req, res) => {
  res.writeHead(200, { 'Content-Length': statSync(file).size });
  createReadStream(file, { highWaterMark: 1024 * 1024 }).pipe(res);
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

const NODE_WRITER = `
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import { createWriteStream, fdatasyncSync, openSync, closeSync, rmSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
const [target, hashing] = [process.argv[1], process.argv[2] === 'hash'];
const server = createServer(async (req, res) => {
  const md5 = createHash('md5'), sha512 = createHash('sha512');
  const hashed = new Transform({ transform(chunk, _e, done) { if (hashing) { md5.update(chunk); sha512.update(chunk); } done(null, chunk); } });
  await pipeline(req, hashed, createWriteStream(target));
  const fd = openSync(target, 'r+'); fdatasyncSync(fd); closeSync(fd);
  if (hashing) { md5.digest('hex'); sha512.digest('hex'); }
  rmSync(target);
  res.writeHead(204).end();
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

const SENDFILE_SERVER = `
import os, socket, sys
listener = socket.create_server(('127.0.0.1', 0))
print(listener.getsockname()[1], flush=True)
conn, _ = listener.accept()
conn.recv(65536)
with open(sys.argv[1], 'rb') as f:
    size = os.fstat(f.fileno()).st_size
    conn.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\nConnection: close\\r\\n\\r\\n' % size)
    sent = 0
    while sent < size:
        sent += os.sendfile(conn.fileno(), f.fileno(), sent, size - sent)
conn.close()
`;

/**
 * MB/s of one transfer by curl (`transfer`: its arguments that say what it sends or saves) to a server started as
 * `command args`, which prints its port on its first line; `leftover` (a file the transfer made) is removed after.
 */
async function timedCurl(command: string, args: string[], transfer: string[], size: number, leftover: string): Promise<number> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<string>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`${command} exited (${code}) before it listened`)));
      createInterface({ input: child.stdout! }).once('line', resolve);
    });
    const start = process.hrtime.bigint();
    await promisify(execFile)('curl', ['--silent', '--fail', ...transfer, `http://127.0.0.1:${port}/`]);
    return size / 1e6 / (Number(process.hrtime.bigint() - start) / 1e9);
  } finally {
    child.kill();
    rmSync(leftover, { force: true });
  }
}

/** MB/s of one GET of `file` from a bare Node server to curl, saved to `saveAs`. */
export const bareNodeHttpRead = (file: string, size: number, saveAs: string) => timedCurl(process.execPath, ['--input-type=module', '-e', NODE_SERVER, file], ['--output', saveAs], size, saveAs);

/** MB/s of one GET of `file` from a sendfile(2) server to curl, saved to `saveAs`. */
export const sendfileHttpRead = (file: string, size: number, saveAs: string) => timedCurl('python3', ['-c', SENDFILE_SERVER, file], ['--output', saveAs], size, saveAs);

/** MB/s of one PUT of `file` by curl to a bare Node server writing it to `writeAs` with fdatasync (then removed); with `hash`, also md5 and sha512 of it. */
export const bareNodeHttpWrite = (file: string, size: number, writeAs: string, hash: boolean) =>
  timedCurl(process.execPath, ['--input-type=module', '-e', NODE_WRITER, writeAs, hash ? 'hash' : 'plain'], ['--upload-file', file], size, writeAs);
