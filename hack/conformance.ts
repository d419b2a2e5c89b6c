/**
 * `make conformance`: OpenStack's own test suite (Debian's tempest) against a fresh `stratus up`, with
 * Tempest's dynamic credentials, as an OpenStack user would check a cloud. It runs (1) the identity, image and
 * compute tests of the OpenStack Powered Compute interop guideline 2020.06 (vendored beside this file) and
 * (2) the broader API suites of each area, then prints passed/failed/skipped per area, the reason of every
 * skip, and every failure, and writes the same to .cache/conformance/summary.md (results.json beside it).
 *
 * Options: --areas identity,image,compute,network,volume  --suites interop,broad  --concurrency 2  --keep (the state folder)
 *   --only <regex> (narrows the selection)  --out <folder> (default .cache/conformance)
 *   --isolated-networks (Tempest makes each test project a network, subnet and router, so servers get NICs)
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startCloud, type RunningCloud } from '@stratus/cli';
import { EXTENSIONS } from '@stratus/neutron';

const run = promisify(execFile);
const ROOT = new URL('../..', import.meta.url).pathname;
const INTEROP_LIST = join(ROOT, 'hack/conformance/interop-2020.06-compute.tsv');
const TEST_IMAGE = join(ROOT, '.cache/test-image/stratus-test.img');
const OUT = join(ROOT, '.cache/conformance');

type Area = 'identity' | 'image' | 'compute' | 'network' | 'volume';
type Suite = 'interop' | 'broad';
type Status = 'passed' | 'failed' | 'skipped';

/** The interop guideline's service names for our areas, and each area's broad Tempest suites. */
const INTEROP_SERVICE: Record<Area, string> = { identity: 'identity', image: 'images', compute: 'compute', network: 'networks', volume: 'volumes' };
const BROAD: Record<Area, RegExp> = {
  identity: /^tempest\.api\.identity\.(v3|admin\.v3)\./,
  image: /^tempest\.api\.image\.v2\./,
  compute: /^tempest\.api\.compute\./,
  network: /^tempest\.api\.network\./,
  volume: /^tempest\.api\.volume\./,
};

/**
 * What this cloud does not offer, switched off in tempest.conf: each switch makes Tempest skip the tests
 * that need it, with Tempest's own reason, which the summary prints. Nothing else is excluded.
 */
/** Keystone's account rules for the run, as devstack sets them for Tempest's gate: lock after 2 failures for 5 s, no reuse of the last 2 passwords. */
const ACCOUNT_RULES = { KEYSTONE_LOCKOUT_FAILURE_ATTEMPTS: '2', KEYSTONE_LOCKOUT_DURATION_SECONDS: '5', KEYSTONE_UNIQUE_LAST_PASSWORD_COUNT: '2' };

const SWITCHED_OFF = `
[identity-feature-enabled]
api_v2 = False
api_v3 = True
trust = False
application_credentials = True
access_rules = True
project_tags = True
security_compliance = True
domain_specific_drivers = False
external_idp = False

[image-feature-enabled]
api_v2 = True
api_v1 = False
import_image = False
os_glance_reserved = False

[compute-feature-enabled]
# OS-DCF:diskConfig AUTO asks Nova to grow the guest's root filesystem itself; Stratus's driver does not
# (guests grow their own root), so it shows MANUAL and the disk config tests are off.
disk_config = False
change_password = False
console_output = True
resize = True
pause = True
suspend = True
shelve = True
shelve_migrate = False
stable_rescue = False
rescue = True
snapshot = True
# noVNC consoles through nova-novncproxy (behind the gateway's /console), single-use tokens.
vnc_console = True
spice_console = False
serial_console = False
rdp_console = False
# os-interface is served (hot-plug); Tempest's attach tests also need validation by SSH, which is off, and say so.
interface_attach = True
live_migration = False
cold_migration = False
block_migration_for_live_migration = False
config_drive = True
metadata_service = False
personality = False
swap_volume = False
attach_encrypted_volume = False
volume_multiattach = False
hostname_fqdn_sanitization = False

[network-feature-enabled]
floating_ips = True
# The Networking API's extensions, as GET /v2.0/extensions lists them: Tempest skips the tests of others.
api_extensions = ${EXTENSIONS.map((e) => e.alias).join(',')}
ipv6 = False
port_security = True

[network]
project_network_cidr = 10.100.0.0/16
floating_network_name = public
project_network_mask_bits = 28
shared_physical_network = False

[volume]
catalog_type = block-storage
min_microversion = 3.0
max_microversion = 3.60
build_timeout = 300
volume_size = 1
backup_driver = s3
# What the file backend reports of itself (its capabilities): types asking for these land on it.
storage_protocol = file
vendor_name = Open Source

[volume-feature-enabled]
backup = True
snapshot = True
clone = True
# An attached volume grows online (Cinder's 3.42).
extend_attached_volume = True
extend_attached_encrypted_volume = False
manage_snapshot = False
manage_volume = False
multi_backend = False
volume_revert = False
cluster_active_active = False
api_v3 = True
api_extensions = os-extended-snapshot-attributes,os-vol-tenant-attr,os-vol-host-attr,os-volume-actions,os-quota-sets,os-availability-zone,backups,os-types-manage,os-volume-type-access,os-vol-image-meta

[validation]
run_validation = False

[service_available]
keystone = True
glance = True
nova = True
neutron = True
cinder = True
swift = False
`;

interface Options {
  areas: Area[];
  suites: Suite[];
  concurrency: number;
  keep: boolean;
  isolatedNetworks: boolean;
  /** Narrows every selection to the tests this matches (a class or module while working on it). */
  only?: RegExp;
  out: string;
}

function options(argv: string[]): Options {
  const value = (flag: string, fallback: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 && argv[i + 1] ? argv[i + 1] : fallback;
  };
  const areas = value('--areas', 'identity,image,compute,network,volume').split(',').filter(Boolean) as Area[];
  for (const a of areas) if (!(a in BROAD)) throw new Error(`unknown area ${a}: identity, image, compute, network or volume`);
  const suites = value('--suites', 'interop,broad').split(',').filter(Boolean) as Suite[];
  for (const s of suites) if (s !== 'interop' && s !== 'broad') throw new Error(`unknown suite ${s}: interop or broad`);
  const only = value('--only', '');
  return { areas, suites, concurrency: Number(value('--concurrency', '2')), keep: argv.includes('--keep'), isolatedNetworks: argv.includes('--isolated-networks'), ...(only ? { only: new RegExp(only) } : {}), out: value('--out', OUT) };
}

/** The interop guideline's tests of an area: name -> whether the guideline flags (excuses) it. */
function interopTests(area: Area): Map<string, boolean> {
  const tests = new Map<string, boolean>();
  for (const line of readFileSync(INTEROP_LIST, 'utf8').split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const [service, , , flagged, test] = line.split('\t');
    if (service === INTEROP_SERVICE[area]) tests.set(test, flagged === 'flagged');
  }
  return tests;
}

const openstack = (cloud: RunningCloud, ...args: string[]) =>
  run('openstack', args, { env: { PATH: process.env.PATH, HOME: cloud.dir, OS_CLIENT_CONFIG_FILE: cloud.cloudsYaml, OS_CLOUD: 'stratus' }, maxBuffer: 1 << 24 }).then((r) => r.stdout.trim());

/** What the compute tests boot: the test disk image twice (Tempest wants two distinct images), and two flavors it fits. */
async function prepareCompute(cloud: RunningCloud) {
  if (!existsSync(TEST_IMAGE)) throw new Error(`${TEST_IMAGE} is missing: make test-image builds it`);
  const upload = (name: string) => openstack(cloud, 'image', 'create', '--file', TEST_IMAGE, '--disk-format', 'raw', '--container-format', 'bare', '--public', name, '-f', 'value', '-c', 'id');
  const image = await upload('stratus-test');
  const imageAlt = await upload('stratus-test-alt');
  await openstack(cloud, 'flavor', 'create', '--id', 'm1.tiny', '--vcpus', '1', '--ram', '192', '--disk', '1', 'm1.tiny');
  await openstack(cloud, 'flavor', 'create', '--id', 'm1.small', '--vcpus', '1', '--ram', '256', '--disk', '2', 'm1.small');
  return { image, imageAlt, flavor: 'm1.tiny', flavorAlt: 'm1.small' };
}

/** The external network routers' gateways and floating IPs come from (the provider network of the cloud's own namespace). */
async function preparePublicNetwork(cloud: RunningCloud): Promise<string> {
  const id = await openstack(cloud, 'network', 'create', '--external', 'public', '-f', 'value', '-c', 'id');
  await openstack(cloud, 'subnet', 'create', '--network', 'public', '--subnet-range', '172.24.4.0/24', '--gateway', '172.24.4.1', '--no-dhcp', 'public-v4');
  return id;
}

function tempestConf(cloud: RunningCloud, logDir: string, isolatedNetworks: boolean, compute?: { image: string; imageAlt: string; flavor: string; flavorAlt: string }, publicNetwork?: string): string {
  const { authUrl, password } = cloud.admin();
  return `[DEFAULT]
log_dir = ${logDir}
log_file = tempest.log

[auth]
use_dynamic_credentials = True
admin_username = admin
admin_password = ${password}
admin_project_name = admin
admin_domain_name = Default
default_credentials_domain_name = Default
create_isolated_networks = ${isolatedNetworks ? 'True' : 'False'}

[identity]
uri_v3 = ${authUrl}
auth_version = v3
region = RegionOne
v3_endpoint_type = public
# The cloud's account rules (ACCOUNT_RULES below), as Tempest's security compliance tests are told them.
user_lockout_failure_attempts = ${ACCOUNT_RULES.KEYSTONE_LOCKOUT_FAILURE_ATTEMPTS}
user_lockout_duration = ${ACCOUNT_RULES.KEYSTONE_LOCKOUT_DURATION_SECONDS}
user_unique_last_password_count = ${ACCOUNT_RULES.KEYSTONE_UNIQUE_LAST_PASSWORD_COUNT}

[compute]
min_microversion = 2.1
max_microversion = 2.73
build_timeout = 300
${compute ? `image_ref = ${compute.image}\nimage_ref_alt = ${compute.imageAlt}\nflavor_ref = ${compute.flavor}\nflavor_ref_alt = ${compute.flavorAlt}\n` : ''}
[image]
build_timeout = 300
# Glance's format check (as Glance's require_image_format_match) refuses data that is not what its
# disk_format says; Tempest 33 uploads random bytes, which are raw data: the formats it may pick are
# those whose data raw bytes are (the default list, less vhd, vmdk, qcow2, vdi and vhdx).
disk_formats = ami,ari,aki,raw,iso
${publicNetwork ? SWITCHED_OFF.replace('[network]\n', `[network]\npublic_network_id = ${publicNetwork}\n`) : SWITCHED_OFF}`;
}

/** Tempest's test IDs carry their attributes ("[id-…,smoke]"); the name is what lists and results share. */
const bare = (id: string) => id.replace(/\[.*\]$/, '');

interface Outcome {
  status: Status;
  reason?: string;
}

/**
 * Runs the selected tests and reads subunit-trace's lines: one per test, and one per class whose set-up
 * failed or was skipped, which then stands for every test of that class that has no line of its own.
 */
/** The process groups of the Tempest runs under way. */
const tempestGroups = new Set<number>();
/** Set by SIGINT or SIGTERM: what Tempest says from then on is not a result. */
let stopped = false;

async function runTempest(workspace: string, selected: string[], concurrency: number, logFile: string): Promise<Map<string, Outcome>> {
  // An empty include list would make Tempest run every test it has.
  if (!selected.length) return new Map();
  const list = join(workspace, 'selected.txt');
  writeFileSync(list, selected.map((t) => `^${t.replace(/\./g, '\\.')}(\\[|$)`).join('\n') + '\n');
  const output = await new Promise<string>((resolve) => {
    // In a process group of its own, so that a stopped run can take Tempest's workers with it.
    const child = spawn('tempest', ['run', '--include-list', list, '--concurrency', String(concurrency)], { cwd: workspace, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    if (child.pid) tempestGroups.add(child.pid);
    child.on('exit', () => tempestGroups.delete(child.pid!));
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.stderr.on('data', (d) => (text += d));
    child.on('close', () => resolve(text));
  });
  if (stopped) return new Map();
  writeFileSync(logFile, output);
  const outcomes = new Map<string, Outcome>();
  const classOutcomes = new Map<string, Outcome>();
  const line = /^(?:\{\d+\} )?(?:(setUpClass|tearDownClass) \((\S+)\)|(\S+?))(?: \[[\d.]+s\])? \.\.\. (ok|FAILED|SKIPPED)(?:: (.*))?$/;
  for (const l of output.split('\n')) {
    const m = line.exec(l.trim());
    if (!m) continue;
    const status: Status = m[4] === 'ok' ? 'passed' : m[4] === 'FAILED' ? 'failed' : 'skipped';
    const outcome = { status, ...(m[5] ? { reason: m[5] } : {}) };
    if (m[2]) {
      if (m[1] === 'setUpClass' || status === 'failed') classOutcomes.set(m[2], m[1] === 'tearDownClass' ? { status: 'failed', reason: 'tearDownClass failed' } : outcome);
    } else outcomes.set(bare(m[3]), outcome);
  }
  for (const test of selected) {
    if (outcomes.has(test)) continue;
    const cls = test.slice(0, test.lastIndexOf('.'));
    const c = classOutcomes.get(cls);
    outcomes.set(test, c ? { ...c, reason: c.reason ?? (c.status === 'failed' ? 'setUpClass failed' : undefined) } : { status: 'failed', reason: 'no result (the run ended before it, or Tempest does not have it)' });
  }
  // A class whose tear-down failed fails its tests that passed, as Tempest counts it.
  for (const [cls, c] of classOutcomes) if (c.reason === 'tearDownClass failed') for (const [t, o] of outcomes) if (t.startsWith(`${cls}.`) && o.status === 'passed') outcomes.set(t, c);
  return outcomes;
}

interface Row {
  area: Area;
  suite: Suite;
  passed: number;
  failed: number;
  skipped: number;
  flaggedFailed: number;
}

function summarize(rows: Row[], results: Record<string, Record<string, Outcome & { flagged?: boolean }>>): string {
  const out: string[] = ['| area | suite | passed | failed | skipped | pass rate (of run) |', '|---|---|---|---|---|---|'];
  for (const r of rows) {
    const ran = r.passed + r.failed;
    const flagged = r.flaggedFailed ? ` (${r.flaggedFailed} of them flagged by the guideline)` : '';
    out.push(`| ${r.area} | ${r.suite} | ${r.passed} | ${r.failed}${flagged} | ${r.skipped} | ${ran ? ((100 * r.passed) / ran).toFixed(1) : '-'}% |`);
  }
  const skips = new Map<string, number>();
  const failures: string[] = [];
  for (const [key, tests] of Object.entries(results))
    for (const [test, o] of Object.entries(tests)) {
      if (o.status === 'skipped') skips.set(o.reason ?? '(no reason given)', (skips.get(o.reason ?? '(no reason given)') ?? 0) + 1);
      if (o.status === 'failed') failures.push(`- ${key}: ${test}${o.flagged ? ' (flagged)' : ''}${o.reason ? ` — ${o.reason}` : ''}`);
    }
  out.push('', 'Skips, by the reason Tempest gave (each a feature switched off in tempest.conf):', '');
  for (const [reason, n] of [...skips].sort((a, b) => b[1] - a[1])) out.push(`- ${n} × ${reason}`);
  out.push('', `Failures (${failures.length}):`, '', ...[...new Set(failures)].sort());
  return out.join('\n');
}

async function main() {
  const opts = options(process.argv.slice(2));
  mkdirSync(opts.out, { recursive: true });
  const cloud = await startCloud(undefined, undefined, { env: ACCOUNT_RULES });
  const work = mkdtempSync(join(tmpdir(), 'stratus-tempest-'));
  let cleaning: Promise<void> | undefined;
  const cleanUp = () =>
    (cleaning ??= (async () => {
      await cloud.stop();
      if (!opts.keep) {
        await cloud.remove();
        rmSync(work, { recursive: true, force: true });
      } else console.log(`kept: ${cloud.dir} and ${work}`);
    })());
  // Stopped (Ctrl-C, kill): Tempest's workers and the cloud go too, leaving no namespace, guest or folder.
  const stop = (signal: NodeJS.Signals) => {
    stopped = true;
    console.error(`${signal}: stopping Tempest and the cloud`);
    for (const group of tempestGroups) {
      try {
        process.kill(-group, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    void cleanUp().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    // A workspace registry of its own: Tempest's default (~/.tempest) is shared by every run on the machine.
    // In the scratch folder: tempest writes its tempest.log into the folder it runs in.
    await run('tempest', ['init', '--workspace-path', join(work, 'workspaces.yaml'), '--name', 'stratus', join(work, 'ws')], { cwd: work });
    const workspace = join(work, 'ws');
    // Volume tests make volumes from the compute image (image_ref) and attach them to servers.
    const compute = opts.areas.includes('compute') || opts.areas.includes('volume') ? await prepareCompute(cloud) : undefined;
    const publicNetwork = await preparePublicNetwork(cloud);
    writeFileSync(join(workspace, 'etc/tempest.conf'), tempestConf(cloud, join(workspace, 'logs'), opts.isolatedNetworks, compute, publicNetwork));
    const listed = (await run('tempest', ['run', '--list-tests'], { cwd: workspace, maxBuffer: 1 << 26 })).stdout.split('\n').filter((l) => l.startsWith('tempest.')).map(bare);
    const known = new Set(listed);
    const rows: Row[] = [];
    const results: Record<string, Record<string, Outcome & { flagged?: boolean }>> = {};
    for (const area of opts.areas)
      for (const suite of opts.suites) {
        const flags = suite === 'interop' ? interopTests(area) : new Map(listed.filter((t) => BROAD[area].test(t)).map((t) => [t, false]));
        const selected = [...flags.keys()].filter((t) => !opts.only || opts.only.test(t));
        console.log(`${area} ${suite}: ${selected.length} tests${suite === 'interop' ? ` (${selected.filter((t) => !known.has(t)).length} not in this Tempest)` : ''}`);
        const outcomes = await runTempest(workspace, selected, opts.concurrency, join(opts.out, `${area}-${suite}.log`));
        // A stopped run's results are not results: the summary of the last whole run stays.
        if (stopped) return;
        const tests: Record<string, Outcome & { flagged?: boolean }> = {};
        const row: Row = { area, suite, passed: 0, failed: 0, skipped: 0, flaggedFailed: 0 };
        for (const t of selected) {
          const o = outcomes.get(t)!;
          tests[t] = { ...o, ...(flags.get(t) ? { flagged: true } : {}) };
          row[o.status]++;
          if (o.status === 'failed' && flags.get(t)) row.flaggedFailed++;
        }
        results[`${area} ${suite}`] = tests;
        rows.push(row);
        console.log(`  passed ${row.passed}, failed ${row.failed}, skipped ${row.skipped}`);
      }
    // What the chart's RBAC refused the cloud's own processes while Tempest drove it: a rule a Helm install lacks.
    const refusals = cloud.serviceAccountRefusals();
    const summary = `${summarize(rows, results)}\n\nRefused the cloud's processes by the Helm chart's RBAC: ${refusals.length ? `\n${refusals.map((l) => `- ${l}`).join('\n')}` : 'nothing'}`;
    writeFileSync(join(opts.out, 'summary.md'), summary + '\n');
    writeFileSync(join(opts.out, 'results.json'), JSON.stringify(results, null, 1));
    console.log(`\n${summary}\n\n(written to ${join(opts.out, 'summary.md')}; Tempest's output per run beside it)`);
  } finally {
    await cleanUp();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
