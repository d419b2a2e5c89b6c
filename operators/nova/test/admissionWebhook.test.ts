/**
 * The Compute API's admission webhook as a kube-apiserver calls it: an admission.k8s.io/v1 AdmissionReview over
 * https, with the certificate the chart would make (a CA and a serving certificate for the Service's DNS
 * name), answered with the create path's flavor and quota checks in Nova's words; only the webhook is served
 * on that port.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '@stratus/apiserver';
import { MERGE_PATCH, createLogger } from '@stratus/runtime';
import { TENANTS } from '@stratus/keystone';
import { call as identityCall, passwordAuth, startIdentityEnv, type IdentityEnv } from '@stratus/keystone/testing';
import { ADMISSION_PATH, FLAVORS, startComputeApi, type ComputeApi } from '../src/index.js';

const SERVICE_NAME = 'stratus-nova.stratus-system.svc';

/** A CA and a serving certificate for the Service's name, made with openssl as the chart's genCA/genSignedCert would. */
function certificates(dir: string) {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=stratus-admission-ca');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'tls.key', '-out', 'tls.csr', '-subj', `/CN=${SERVICE_NAME}`);
  writeFileSync(join(dir, 'san.ext'), `subjectAltName=DNS:${SERVICE_NAME},DNS:stratus-nova\n`);
  run('x509', '-req', '-in', 'tls.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'tls.crt', '-days', '2', '-extfile', 'san.ext');
  return { ca: readFileSync(join(dir, 'ca.crt')), cert: readFileSync(join(dir, 'tls.crt')), key: readFileSync(join(dir, 'tls.key')) };
}

describe('the Compute API admission webhook over https', function () {
  this.timeout(60_000);
  let identity: IdentityEnv;
  let compute: ComputeApi;
  let work: string;
  let ca: Buffer;
  let webhookPort: number;
  let projectId: string;

  /** POSTs as kube-apiserver does: https, trusting only the CA, checking the certificate names the Service. */
  const post = (path: string, body: unknown) =>
    new Promise<{ status: number; body: any }>((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port: webhookPort, path, method: 'POST', ca, servername: SERVICE_NAME, headers: { 'Content-Type': 'application/json' } }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined }));
      });
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
  const review = (flavor: string, userInfo: Record<string, unknown>) => ({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: { uid: 'b5c3f2e0-0000-4000-8000-000000000001', operation: 'CREATE', namespace: 'acme', userInfo, object: { apiVersion: 'compute.stratus.io/v1alpha1', kind: 'Instance', metadata: { name: 'web', namespace: 'acme' }, spec: { flavor, image: { name: 'none' } } } },
  });
  const member = () => ({ username: 'wile', groups: [projectId, 'system:authenticated'], extra: { 'alpha.kubernetes.io/identity/project/id': [projectId] } });

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'admission-webhook-'));
    const tls = certificates(work);
    ca = tls.ca;
    identity = await startIdentityEnv();
    const admin = (await identityCall(identity.v3, 'POST', '/auth/tokens', { body: passwordAuth('admin', identity.adminPassword, 'admin') })).headers.get('x-subject-token')!;
    projectId = (await identityCall(identity.v3, 'POST', '/projects', { token: admin, body: { project: { name: 'acme' } } })).body.project.id;
    compute = await startComputeApi({ kubeConfig: identity.kubeConfig, logger: createLogger('nova-test', 'error'), identityUrl: identity.v3, port: 0, admission: { cert: tls.cert, key: tls.key, host: '127.0.0.1', port: 0 } });
    webhookPort = Number(new URL(compute.admissionUrl!).port);
    await identity.client.create(FLAVORS, { apiVersion: 'compute.stratus.io/v1alpha1', kind: 'Flavor', metadata: { name: 'm1.big' }, spec: { vcpus: 4, ramMiB: 512, diskGiB: 1 } }, 'test');
    await identity.client.patch(TENANTS, undefined, 'acme', { spec: { quota: { cores: 2 } } }, 'test', MERGE_PATCH);
    await eventually('the flavor and the quota in the API\'s caches', async () => !!compute.directory.flavors.get('m1.big') && compute.directory.quotaOf('acme')?.cores === 2, 60_000);
  });
  after(async () => {
    await compute?.close();
    await identity?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it("refuses a member's Instance over quota with 403 and Nova's words, and an unknown flavor with 422", async () => {
    const over = await post(`/v2.1${ADMISSION_PATH}`, review('m1.big', member()));
    assert.equal(over.status, 200);
    assert.equal(over.body.kind, 'AdmissionReview');
    assert.equal(over.body.response.uid, 'b5c3f2e0-0000-4000-8000-000000000001', 'the answer carries the request uid');
    assert.equal(over.body.response.allowed, false);
    assert.equal(over.body.response.status.code, 403);
    assert.equal(over.body.response.status.message, 'exceeded quota: Quota exceeded for cores: Requested 4, but already used 0 of 2 cores');
    const unknown = await post(`/v2.1${ADMISSION_PATH}`, review('m9.none', member()));
    assert.equal(unknown.body.response.status.code, 422);
    assert.match(unknown.body.response.status.message, /spec\.flavor: Flavor m9\.none could not be found/);
  });

  it("leaves the Stratus services' own writes (its namespace's service accounts) and admins to the API's checks", async () => {
    const services = await post(`/v2.1${ADMISSION_PATH}`, review('m1.big', { username: 'system:serviceaccount:stratus-system:stratus-nova', groups: ['system:serviceaccounts', 'system:serviceaccounts:stratus-system', 'system:authenticated'] }));
    assert.equal(services.body.response.allowed, true);
    const elsewhere = await post(`/v2.1${ADMISSION_PATH}`, review('m1.big', { username: 'system:serviceaccount:acme:ci', groups: ['system:serviceaccounts', 'system:serviceaccounts:acme', 'system:authenticated'] }));
    assert.equal(elsewhere.body.response.allowed, false, "another namespace's service account is checked like anyone");
  });

  it('serves only the webhook on its https port, never on the Compute API\'s (which the gateway makes public), and a client that does not trust the CA cannot connect', async () => {
    const api = await post('/v2.1/servers', {});
    assert.equal(api.status, 404);
    const onApiPort = await fetch(`${compute.url}/v2.1${ADMISSION_PATH}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(review('m1.big', member())) });
    assert.equal(onApiPort.status, 404, "the webhook's answers speak of the project's usage: not for anyone on the API's port");
    await assert.rejects(
      new Promise((resolve, reject) => https.request({ host: '127.0.0.1', port: webhookPort, path: `/v2.1${ADMISSION_PATH}`, method: 'POST', servername: SERVICE_NAME }, resolve).on('error', reject).end('{}')),
      /self-signed certificate|unable to verify/,
    );
  });
});
