/**
 * Builds the browser code at build time (`make build`), so nothing is fetched from a CDN at run time: the
 * dashboard (React and PatternFly) into operators/horizon/dist/web with content-hashed names, and the console
 * page (noVNC) into operators/nova/dist/web; each text file also precompressed (.gz) for the servers to send.
 */
import { build, type Metafile } from 'esbuild';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const production = { minify: true, sourcemap: false, target: ['chrome120', 'firefox120', 'safari17'], legalComments: 'linked' as const, define: { 'process.env.NODE_ENV': '"production"' } };

async function precompress(dir: string): Promise<void> {
  for (const f of await readdir(dir, { recursive: true })) {
    if (!/\.(js|css|html|svg|txt|json)$/.test(f)) continue;
    const p = join(dir, f);
    await writeFile(`${p}.gz`, gzipSync(await readFile(p), { level: 9 }));
  }
}

const outputOf = (meta: Metafile, ext: string, outdir: string) => {
  const out = Object.keys(meta.outputs).find((o) => o.endsWith(ext) && !o.includes('/fonts/') && !o.endsWith('.map'));
  if (!out) throw new Error(`the bundle has no ${ext} output`);
  return join(root, out).slice(outdir.length + 1);
};

async function dashboard(): Promise<void> {
  const src = join(root, 'operators/horizon/web');
  const outdir = join(root, 'operators/horizon/dist/web');
  await rm(outdir, { recursive: true, force: true });
  const result = await build({
    ...production,
    absWorkingDir: root,
    entryPoints: { app: join(src, 'main.tsx') },
    bundle: true,
    format: 'esm',
    outdir,
    entryNames: '[name]-[hash]',
    assetNames: 'fonts/[name]-[hash]',
    jsx: 'automatic',
    loader: { '.woff2': 'file', '.woff': 'file', '.ttf': 'file', '.svg': 'file', '.png': 'file', '.jpg': 'file', '.otf': 'file', '.eot': 'file' },
    metafile: true,
    logLevel: 'warning',
  });
  const html = (await readFile(join(src, 'index.html'), 'utf8')).replace('%JS%', outputOf(result.metafile, '.js', outdir)).replace('%CSS%', outputOf(result.metafile, '.css', outdir));
  await writeFile(join(outdir, 'index.html'), html);
  await precompress(outdir);
}

async function consolePage(): Promise<void> {
  const src = join(root, 'operators/nova/web');
  const outdir = join(root, 'operators/nova/dist/web');
  await mkdir(outdir, { recursive: true });
  await build({ ...production, absWorkingDir: root, entryPoints: [join(src, 'console.ts')], bundle: true, format: 'esm', outfile: join(outdir, 'console.js'), logLevel: 'warning' });
  await writeFile(join(outdir, 'vnc_lite.html'), await readFile(join(src, 'vnc_lite.html')));
  await precompress(outdir);
}

await Promise.all([dashboard(), consolePage()]);
for (const d of ['operators/horizon/dist/web', 'operators/nova/dist/web']) {
  const files = await readdir(join(root, d));
  console.log(`${d}: ${files.filter((f) => !f.endsWith('.gz')).map((f) => basename(f)).join(', ')}`);
}
