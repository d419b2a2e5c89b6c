/** Which URLs image imports may fetch: the pure checks the fetcher applies to URLs, addresses and redirects. */
import { strict as assert } from 'node:assert';
import { DEFAULT_IMPORT_FILTER, endpointsOf, importFilterFromEnv, importFilterToEnv, type ImportFilter } from '../src/index.js';
import { addressRefusal, urlRefusal } from '../src/importFilter.js';

const u = (s: string) => new URL(s);

describe('image import filtering', () => {
  const filter: ImportFilter = { ...DEFAULT_IMPORT_FILTER, allowed: [{ host: '127.0.0.1', port: 8080 }, { host: 'files.lan' }], denied: [{ host: '127.0.0.1', port: 9000 }, { host: '*', port: 6443 }] };

  it('takes http and https on their usual ports to public addresses, as Glance does by default', () => {
    assert.equal(urlRefusal(filter, u('https://cloud-images.example.org/debian.qcow2')), undefined);
    assert.equal(addressRefusal(filter, u('https://cloud-images.example.org/debian.qcow2'), '93.184.216.34'), undefined);
    assert.match(urlRefusal(filter, u('ftp://example.org/x'))!, /scheme ftp/);
    assert.match(urlRefusal(filter, u('http://example.org:8443/x'))!, /port 8443 is not allowed/);
  });

  it('refuses every address that is not public, however the URL names it', () => {
    for (const [url, range] of [
      ['http://127.0.0.1/x', 'loopback'],
      ['http://[::1]/x', 'loopback'],
      ['http://[::ffff:127.0.0.1]/x', 'loopback'],
      ['http://10.1.2.3/x', 'private'],
      ['http://192.168.1.1/x', 'private'],
      ['http://169.254.169.254/latest/meta-data', 'linkLocal'],
      ['http://[fd00::1]/x', 'uniqueLocal'],
      ['http://0.0.0.0/x', 'unspecified'],
      ['http://100.64.0.1/x', 'carrierGradeNat'],
    ])
      assert.match(urlRefusal(filter, u(url)) ?? '', new RegExp(range), url);
    // A public-looking name that resolves to a private address is refused when it resolves.
    assert.match(addressRefusal(filter, u('http://evil.example/x'), '10.0.0.5')!, /evil\.example is 10\.0\.0\.5, a private address/);
  });

  it('lets allowed endpoints through, but never this cloud’s own listeners', () => {
    assert.equal(urlRefusal(filter, u('http://127.0.0.1:8080/disk.img')), undefined);
    assert.equal(addressRefusal(filter, u('http://127.0.0.1:8080/disk.img'), '127.0.0.1'), undefined);
    assert.equal(urlRefusal(filter, u('http://files.lan:81/disk.img')), undefined, 'an allowed host on any port');
    assert.equal(addressRefusal(filter, u('http://files.lan:81/disk.img'), '192.168.7.7'), undefined);
    assert.match(urlRefusal(filter, u('http://127.0.0.1:8081/x'))!, /port 8081/);
    assert.match(urlRefusal(filter, u('http://127.0.0.1:9000/bucket'))!, /own services/);
    assert.match(addressRefusal(filter, u('http://files.lan:9000/bucket'), '127.0.0.1')!, /own services/, 'an allowed name that resolves to a denied listener');
    assert.match(addressRefusal(filter, u('http://files.lan:6443/'), '192.168.7.7')!, /own services/, '* denies the port on every address');
  });

  it('reads and writes the GLANCE_IMPORT_* settings', () => {
    const endpoints = endpointsOf('127.0.0.1:8080, files.lan, [::1]:9000, *:6443, fd00::1');
    assert.deepEqual(endpoints, [{ host: '127.0.0.1', port: 8080 }, { host: 'files.lan' }, { host: '::1', port: 9000 }, { host: '*', port: 6443 }, { host: 'fd00::1' }]);
    const env = importFilterToEnv({ allowed: endpoints, denied: [] });
    assert.deepEqual(importFilterFromEnv(env).allowed, endpoints);
    assert.equal(importFilterFromEnv({ GLANCE_IMPORT_PORTS: 'any' }).ports, undefined);
    assert.deepEqual(importFilterFromEnv({}).ports, [80, 443]);
    assert.throws(() => endpointsOf('http://x/'), /not an endpoint/);
  });
});
