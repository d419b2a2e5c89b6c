/**
 * Keystone token benchmark: token issue (password, project-scoped) and token validation (GET /v3/auth/tokens)
 * requests/s and latency at fixed concurrency over loopback, beside a baseline measured in the same run: a
 * bare HTTP server in its own process answering a token-sized body to the same client.
 *
 * By default it runs `stratus up` (control plane, Keystone in its own process, the one port) in a temporary
 * directory and measures through the one port, as clients reach it, and again on Keystone's own port (the
 * one port's ratio, issue 18). The bare server is also measured through a gateway process of its own: what a
 * hop costs a request as cheap as a token validation on this machine, whatever the service behind it. Point it at any Keystone instead:
 *
 *   node bench/dist/keystone.bench.js --url http://keystone:5000/v3 --user admin --password ... --project admin
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';
import { startCloud, type RunningCloud } from '@stratus/cli';
import { load, ms, pct } from './lib/load.js';
import { childPid, cpuSecondsOf, gatewayPid } from './lib/processes.js';
import { readFileSync } from 'node:fs';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.KEYSTONE_URL },
    user: { type: 'string', default: process.env.OS_USERNAME ?? 'admin' },
    password: { type: 'string', default: process.env.OS_PASSWORD },
    project: { type: 'string', default: process.env.OS_PROJECT_NAME ?? 'admin' },
    issues: { type: 'string', default: '3000' },
    validations: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '16' },
  },
});
const ISSUES = Number(values.issues);
const VALIDATIONS = Number(values.validations);
const CONCURRENCY = Number(values.concurrency);

interface Reply {
  code: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
function call(url: string, method: string, headers: Record<string, string>, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers: { ...headers, ...(body ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The baseline: an HTTP server in its own process that answers every request with the same token-sized body. */
async function startBaseline(bodyBytes: number): Promise<{ child: ChildProcess; url: string }> {
  const script = `
    const body = JSON.stringify({ token: { pad: 'x'.repeat(${bodyBytes}) } });
    const server = require('node:http').createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'Content-Type': 'application/json', 'X-Subject-Token': 'gAAAA', 'Content-Length': Buffer.byteLength(body) }).end(body));
    });
    server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) => child.stdout!.once('data', (d) => resolve(String(d).trim())));
  return { child, url: `http://127.0.0.1:${port}` };
}

/** The gateway `stratus up` runs (its own process), in front of `target` at /echo. */
async function startGatewayTo(target: string): Promise<{ child: ChildProcess; url: string }> {
  const main = new URL('../../cli/dist/src/gatewayMain.js', import.meta.url).pathname;
  // Port 0: the gateway takes a free one and says which in its log line (JSON on stderr).
  const child = spawn(process.execPath, [main], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, STRATUS_GATEWAY_HOST: '127.0.0.1', STRATUS_GATEWAY_PORT: '0', STRATUS_GATEWAY_ROUTES: JSON.stringify([{ prefix: '/echo', target }]) } });
  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    child.stderr!.on('data', (d) => {
      seen += String(d);
      const line = seen.split('\n').find((l) => l.includes('gateway listening'));
      if (line) resolve(JSON.parse(line).url);
    });
    child.once('exit', (code) => reject(new Error(`the gateway exited (${code}): ${seen}`)));
  });
  child.stderr!.resume();
  return { child, url };
}

function report(name: string, r: { latencies: number[]; seconds: number }, baselinePerSecond: number, goal?: number) {
  const perSecond = r.latencies.length / r.seconds;
  const verdict = goal === undefined ? '' : `  goal ≥ ${goal}/s: ${perSecond >= goal ? 'met' : 'NOT met'}`;
  console.log(
    `${name.padEnd(22)} ${Math.round(perSecond).toString().padStart(6)}/s  p50 ${ms(pct(r.latencies, 50))} ms  p99 ${ms(pct(r.latencies, 99))} ms  ratio to baseline ${(perSecond / baselinePerSecond).toFixed(2)}${verdict}`,
  );
}

async function main() {
  let cloud: RunningCloud | undefined;
  let baselineServer: ChildProcess | undefined;
  let gatewayServer: ChildProcess | undefined;
  try {
    let url = values.url;
    let password = values.password;
    if (!url) {
      cloud = await startCloud();
      ({ authUrl: url, password } = cloud.admin());
    }
    if (!password) throw new Error('--password (or OS_PASSWORD) is needed with --url');
    url = url.replace(/\/+$/, '');
    const signIn = JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: values.user, domain: { id: 'default' }, password } } },
        scope: { project: { name: values.project, domain: { id: 'default' } } },
      },
    });
    const issue = async () => {
      const r = await call(`${url}/auth/tokens`, 'POST', {}, signIn);
      if (r.code !== 201) throw new Error(`token issue: HTTP ${r.code} ${r.body.slice(0, 300)}`);
      return { token: String(r.headers['x-subject-token']), body: r.body };
    };
    const first = await issue();
    const tokens = [first.token];
    for (let i = 0; i < 99; i++) tokens.push((await issue()).token);
    const validateAt = (base: string) => async (i: number) => {
      const r = await call(`${base}/auth/tokens`, 'GET', { 'X-Auth-Token': first.token, 'X-Subject-Token': tokens[i % tokens.length] });
      if (r.code !== 200) throw new Error(`token validation: HTTP ${r.code} ${r.body.slice(0, 300)}`);
    };
    const validate = validateAt(url);
    // With its own cloud, the same validations on Keystone's own port: what the gateway costs.
    const direct = cloud ? `http://127.0.0.1:${/(?:^|\0)KEYSTONE_API_PORT=(\d+)/.exec(readFileSync(`/proc/${childPid(cloud, 'operators/keystone/dist/src/main.js')}/environ`, 'utf8'))![1]}/v3` : undefined;

    const baseline = await startBaseline(first.body.length);
    baselineServer = baseline.child;
    const echo = () => call(baseline.url, 'POST', {}, signIn).then(() => undefined);
    // The limit of any one-port design with a hop: the same bare server through a gateway process of its own.
    const hop = await startGatewayTo(baseline.url);
    gatewayServer = hop.child;
    const echoThroughGateway = () => call(`${hop.url}/echo`, 'POST', {}, signIn).then(() => undefined);

    // Warm up every path (JIT, keep-alive sockets), then measure.
    await load(500, CONCURRENCY, echo);
    await load(300, CONCURRENCY, () => issue().then(() => undefined));
    await load(1000, CONCURRENCY, validate);
    await load(500, CONCURRENCY, echoThroughGateway);
    const base = await load(VALIDATIONS, CONCURRENCY, echo);
    const basePerSecond = base.latencies.length / base.seconds;
    const hopped = await load(VALIDATIONS, CONCURRENCY, echoThroughGateway);
    const issued = await load(ISSUES, CONCURRENCY, () => issue().then(() => undefined));
    // With its own cloud, the CPU each process spends per validation, both ways (utime + stime from /proc).
    const pids = cloud ? { keystone: childPid(cloud, 'operators/keystone/dist/src/main.js'), gateway: gatewayPid(cloud) } : undefined;
    const cpu = () => (pids ? Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSecondsOf(pid)])) : {});
    // Rounds alternate between the one port and Keystone's own (warmed up first too): the machine's load
    // varies, and a first phase pays for warm-up; each figure is its median round.
    if (direct) await load(1000, CONCURRENCY, validateAt(direct));
    const rounds: Array<{ via: Awaited<ReturnType<typeof load>>; own?: Awaited<ReturnType<typeof load>>; viaCpu: Record<string, number>; ownCpu: Record<string, number> }> = [];
    for (let round = 0; round < 3; round++) {
      let before = cpu();
      const via = await load(VALIDATIONS, CONCURRENCY, validate);
      const viaCpu = perRequestMicros(before, (before = cpu()), VALIDATIONS);
      const own = direct ? await load(VALIDATIONS, CONCURRENCY, validateAt(direct)) : undefined;
      rounds.push({ via, own, viaCpu, ownCpu: perRequestMicros(before, cpu(), VALIDATIONS) });
    }
    const rate = (r: Awaited<ReturnType<typeof load>>) => r.latencies.length / r.seconds;
    const medianBy = <T>(xs: T[], key: (x: T) => number) => [...xs].sort((a, b) => key(a) - key(b))[Math.floor(xs.length / 2)];
    const validated = medianBy(rounds, (r) => rate(r.via)).via;
    const viaGatewayCpu = medianBy(rounds, (r) => rate(r.via)).viaCpu;
    const directValidated = direct ? medianBy(rounds, (r) => rate(r.own!)).own : undefined;
    const directCpu = medianBy(rounds, (r) => (r.own ? rate(r.own) : 0)).ownCpu;
    const ratios = rounds.filter((r) => r.own).map((r) => rate(r.via) / rate(r.own!));

    console.log(`Keystone token benchmark: ${url}, concurrency ${CONCURRENCY}, ${ISSUES} issues, ${VALIDATIONS} validations, token ${first.token.length} chars, body ${first.body.length} bytes`);
    report('baseline (bare HTTP)', base, basePerSecond);
    report('  through a gateway', hopped, basePerSecond);
    report('token issue', issued, basePerSecond, 500);
    report('token validation', validated, basePerSecond, 2000);
    if (directValidated) {
      report("  on Keystone's port", directValidated, basePerSecond);
      const ratio = medianBy(ratios, (x) => x);
      console.log(`the cloud's one port / Keystone's own port, median of ${ratios.length} alternating rounds (${ratios.map((x) => x.toFixed(2)).join(', ')}): ${ratio.toFixed(2)} (aim ≥ 0.8): ${ratio >= 0.8 ? 'met' : 'NOT met'}`);
      console.log(`CPU per validation: through the one port Keystone ${viaGatewayCpu.keystone} µs + gateway process ${viaGatewayCpu.gateway} µs; on Keystone's port Keystone ${directCpu.keystone} µs`);
    }
  } finally {
    baselineServer?.kill('SIGTERM');
    gatewayServer?.kill('SIGTERM');
    await cloud?.stop();
    await cloud?.remove();
    agent.destroy();
  }
}

const perRequestMicros = (a: Record<string, number>, b: Record<string, number>, n: number) =>
  Object.fromEntries(Object.keys(a).map((k) => [k, Math.round(((b[k] - a[k]) * 1e6) / n)]));

await main();
