/** Which connections may tell kubevirt-simulator's virt-api who is asking: the front proxy's, decided alone. */
import { strict as assert } from 'node:assert';
import { X509Certificate } from 'node:crypto';
import { generateProxyClientCert, generateServingCert, PROXY_CLIENT_NAME, type ServingCert } from '@stratus/apiserver';
import { proxyRefusal, requestHeaderConfigOf } from '../src/kubevirt/simulator/requestHeader.js';

describe("the request-header check of an extension API server (kube-system/extension-apiserver-authentication)", () => {
  let proxy: ServingCert;
  let other: ServingCert;
  before(async () => {
    [proxy, other] = await Promise.all([generateProxyClientCert(), generateServingCert('127.0.0.1')]);
  });
  const published = (ca: string, names = [PROXY_CLIENT_NAME]) => requestHeaderConfigOf({ 'requestheader-client-ca-file': ca, 'requestheader-allowed-names': JSON.stringify(names), 'requestheader-username-headers': '["X-Remote-User"]', 'requestheader-group-headers': '["X-Remote-Group"]' });

  it('reads the ConfigMap as kube-apiserver writes it', () => {
    const config = published(`${other.cert}\n${proxy.cert}`)!;
    assert.equal(config.cas.length, 2, 'a bundle of CAs');
    assert.deepEqual(config.allowedNames, [PROXY_CLIENT_NAME]);
    assert.deepEqual(config.usernameHeaders, ['X-Remote-User']);
    assert.equal(requestHeaderConfigOf({}), undefined, 'no CA, no config');
    assert.equal(requestHeaderConfigOf({ 'requestheader-client-ca-file': 'not a certificate' }), undefined);
  });

  it("believes the front proxy's certificate, signed by the published CA and carrying an allowed name", () => {
    assert.equal(proxyRefusal(new X509Certificate(proxy.cert), published(proxy.cert)), undefined);
    assert.equal(proxyRefusal(new X509Certificate(proxy.cert), published(proxy.cert, [])), undefined, 'no names listed: any the CA signed');
  });

  it('believes nobody else, saying why', () => {
    assert.match(proxyRefusal(undefined, published(proxy.cert))!, /no client certificate/);
    assert.match(proxyRefusal(new X509Certificate(other.cert), published(proxy.cert))!, /not signed by the requestheader client CA/);
    assert.match(proxyRefusal(new X509Certificate(other.cert), published(other.cert))!, /common name "stratus-apiserver" is not among/);
    assert.match(proxyRefusal(new X509Certificate(proxy.cert), undefined)!, /no requestheader client CA is published/);
    assert.match(proxyRefusal(new X509Certificate(proxy.cert), published(proxy.cert), new Date(Date.now() + 20 * 365 * 24 * 3600 * 1000))!, /not valid now/);
  });
});
