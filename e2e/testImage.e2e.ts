/**
 * The test disk image (hack/build-test-image.sh) that Nova's tests and `make up` examples boot: built from
 * Debian packages only, it boots under QEMU without KVM, prints its marker and what a NoCloud config drive
 * holds to the serial console, and powers off on the ACPI power button.
 */
import { strict as assert } from 'node:assert';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = new URL('../../', import.meta.url).pathname;
const run = promisify(execFile);

describe('the test disk image', function () {
  this.timeout(300_000);
  let work: string;
  let image: string;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'test-image-'));
    image = (await run('bash', [join(ROOT, 'hack/build-test-image.sh')], { maxBuffer: 1 << 20 })).stdout.trim().split('\n').pop()!;
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('is a small raw disk built from Debian packages', () => {
    assert.ok(existsSync(image), image);
    const mib = statSync(image).size / 2 ** 20;
    assert.ok(mib > 4 && mib < 32, `${mib.toFixed(1)} MiB`);
    const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', image], { encoding: 'utf8' }));
    assert.equal(info.format, 'raw');
  });

  it('boots under QEMU (TCG), reports its config drive, and powers off on the power button', async () => {
    const cidata = join(work, 'cidata.img');
    writeFileSync(join(work, 'meta-data'), 'instance-id: i-0123abcd\nlocal-hostname: web-1\npublic-keys:\n  - ssh-ed25519 AAAAC3Nza test@stratus\n');
    writeFileSync(join(work, 'user-data'), '#cloud-config\nruncmd: [echo from-user-data]\n');
    execFileSync('mkfs.vfat', ['-C', '-n', 'CIDATA', cidata, '1024']);
    execFileSync('mcopy', ['-i', cidata, join(work, 'meta-data'), join(work, 'user-data'), '::']);
    const consoleLog = join(work, 'console.log');
    const monitor = join(work, 'monitor.sock');
    const started = Date.now();
    const qemu = spawn('qemu-system-x86_64', [
      '-accel', 'tcg', '-m', '256', '-display', 'none', '-no-reboot',
      '-serial', `file:${consoleLog}`, '-monitor', `unix:${monitor},server,nowait`,
      '-drive', `file=${image},format=raw,if=virtio,snapshot=on`,
      '-drive', `file=${cidata},format=raw,if=virtio,readonly=on`,
    ], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => qemu.once('exit', resolve));
    try {
      const text = () => (existsSync(consoleLog) ? readFileSync(consoleLog, 'latin1') : '');
      while (!text().includes('STRATUS-TEST-IMAGE-READY')) {
        assert.ok(Date.now() - started < 120_000, `no READY marker within 120 s:\n${text().slice(-2000)}`);
        assert.equal(qemu.exitCode, null, `QEMU exited early:\n${text().slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const booted = (Date.now() - started) / 1000;
      assert.match(text(), /STRATUS-TEST-IMAGE-BOOTED kernel \d+\.\d+/);
      assert.match(text(), /STRATUS-CONFIG-DRIVE instance-id=i-0123abcd hostname=web-1/);
      assert.match(text(), /STRATUS-USER-DATA runcmd: \[echo from-user-data\]/);
      assert.match(text(), /STRATUS-SSH-KEY present/);
      console.log(`      (booted to READY in ${booted.toFixed(1)} s without KVM)`);

      await new Promise<void>((resolve, reject) => {
        const s = connect(monitor, () => s.end('system_powerdown\n', () => resolve()));
        s.on('error', reject);
      });
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 30_000))]);
      assert.notEqual(code, 'timeout', 'the guest did not power off within 30 s');
      assert.match(text(), /STRATUS-TEST-IMAGE-POWEROFF/);
    } finally {
      if (qemu.exitCode === null) qemu.kill('SIGKILL');
    }
  });

  it('boots through libvirt (qemu:///system) on a qcow2 overlay and shuts down gracefully', async () => {
    const virsh = (...args: string[]) => run('virsh', ['-c', 'qemu:///system', ...args]).then((r) => r.stdout.trim());
    const dir = mkdtempSync(join(tmpdir(), 'libvirt-e2e-'));
    chmodSync(dir, 0o755); // QEMU runs as its own user under qemu:///system
    const name = `stratus-e2e-${process.pid}`;
    const base = join(dir, 'base.img');
    const overlay = join(dir, 'overlay.qcow2');
    const consoleLog = join(dir, 'console.log');
    copyFileSync(image, base);
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', base, overlay]);
    const domain = [
      `<domain type='qemu'><name>${name}</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>`,
      `<os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os><features><acpi/></features><devices>`,
      `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${overlay}'/><target dev='vda' bus='virtio'/></disk>`,
      `<serial type='file'><source path='${consoleLog}'/><target port='0'/></serial>`,
      `<graphics type='vnc' listen='127.0.0.1' autoport='yes'/></devices></domain>`,
    ].join('');
    writeFileSync(join(dir, 'domain.xml'), domain);
    try {
      await virsh('define', join(dir, 'domain.xml'));
      const started = Date.now();
      await virsh('start', name);
      const text = () => (existsSync(consoleLog) ? readFileSync(consoleLog, 'latin1') : '');
      while (!text().includes('STRATUS-TEST-IMAGE-READY')) {
        assert.ok(Date.now() - started < 120_000, `no READY marker within 120 s:\n${text().slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      console.log(`      (libvirt: READY ${((Date.now() - started) / 1000).toFixed(1)} s after virsh start)`);
      assert.equal(await virsh('domstate', name), 'running');
      assert.match(await virsh('vncdisplay', name), /^127\.0\.0\.1:\d+$/);
      await virsh('shutdown', name);
      const deadline = Date.now() + 30_000;
      while ((await virsh('domstate', name)) !== 'shut off') {
        assert.ok(Date.now() < deadline, 'the guest did not shut down within 30 s');
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.match(text(), /STRATUS-TEST-IMAGE-POWEROFF/);
    } finally {
      await virsh('destroy', name).catch(() => '');
      await virsh('undefine', name).catch(() => '');
      rmSync(dir, { recursive: true, force: true });
    }
    const left = await virsh('list', '--all', '--name');
    assert.ok(!left.split('\n').includes(name), 'no domain left behind');
  });
});
