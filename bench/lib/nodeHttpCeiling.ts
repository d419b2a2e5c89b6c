/**
 * The ceiling of any Node HTTP server's data path on this machine: a bare Node server in a process of its own
 * sending a page-cached file (1 MiB reads) to curl (a C client that costs next to nothing, writing to
 * /dev/null). No S3, no Glance, no proxy, no check: an image download, which crosses two Node servers
 * (S3 → Glance → client), cannot beat it.
 */
import { execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

const SERVER = `
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

/** MB/s of one GET of `file` from a bare Node server to curl. */
export async function bareNodeHttpRead(file: string, size: number): Promise<number> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', SERVER, file], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
    const start = process.hrtime.bigint();
    await promisify(execFile)('curl', ['--silent', '--fail', '--output', '/dev/null', `http://127.0.0.1:${port}/`]);
    return size / 1e6 / (Number(process.hrtime.bigint() - start) / 1e9);
  } finally {
    child.kill();
  }
}
