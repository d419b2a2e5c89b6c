import { strict as assert } from 'node:assert';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TokenValidator } from '../src/keystoneTokens.js';

class Refused extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const call = { method: 'GET', path: '/v2.1/servers' };

describe('Keystone token validation for the other services', () => {
  const validator = (identityUrl: string) =>
    new TokenValidator({ identityUrl, serviceType: 'compute', unauthorized: () => new Refused(401, 'unauthorized'), unavailable: (why) => new Refused(503, why), namespaceOfProject: () => undefined });

  it('answers with the service’s 503 when Keystone is down or failing, never a 500, and 401 for a token Keystone refuses', async () => {
    // A port that was just free: nothing listens there.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const closedPort = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const down = await validator(`http://127.0.0.1:${closedPort}/v3`).validate('a-token', call).catch((e) => e);
    assert.equal((down as Refused).status, 503);
    assert.match((down as Refused).message, /Keystone service is temporarily unavailable/);

    let answer = 500;
    const keystone = createServer((_req, res) => res.writeHead(answer).end());
    await new Promise<void>((r) => keystone.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(keystone.address() as AddressInfo).port}/v3`;
    try {
      assert.equal(((await validator(url).validate('a-token', call).catch((e) => e)) as Refused).status, 503, 'Keystone failing');
      answer = 404;
      assert.equal(((await validator(url).validate('a-token', call).catch((e) => e)) as Refused).status, 401, 'a token Keystone does not know');
    } finally {
      keystone.close();
    }
  });
});
