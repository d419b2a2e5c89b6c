/**
 * The ceilings of an HTTP download on this machine, each a server in a process of its own sending a page-cached
 * file to curl (a C client that costs next to nothing, saving it where the benchmark's downloads are saved), with
 * no S3, no Glance, no check:
 * - a bare Node server (1 MiB reads piped to the response): an image download, served by a Node server,
 *   cannot beat it;
 * - the kernel's own: a server handing the file to sendfile(2) (python3's os.sendfile, no copy through user
 *   space), what loopback TCP and curl reach at all, so the limit of any server.
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

/** MB/s of one GET by curl, saving to `saveAs` (then removed), from a server started as `command args`, which prints its port on its first line. */
async function curlRead(command: string, args: string[], size: number, saveAs: string): Promise<number> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<string>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`${command} exited (${code}) before it listened`)));
      createInterface({ input: child.stdout! }).once('line', resolve);
    });
    const start = process.hrtime.bigint();
    await promisify(execFile)('curl', ['--silent', '--fail', '--output', saveAs, `http://127.0.0.1:${port}/`]);
    return size / 1e6 / (Number(process.hrtime.bigint() - start) / 1e9);
  } finally {
    child.kill();
    rmSync(saveAs, { force: true });
  }
}

/** MB/s of one GET of `file` from a bare Node server to curl, saved to `saveAs`. */
export const bareNodeHttpRead = (file: string, size: number, saveAs: string) => curlRead(process.execPath, ['--input-type=module', '-e', NODE_SERVER, file], size, saveAs);

/** MB/s of one GET of `file` from a sendfile(2) server to curl, saved to `saveAs`. */
export const sendfileHttpRead = (file: string, size: number, saveAs: string) => curlRead('python3', ['-c', SENDFILE_SERVER, file], size, saveAs);
