/** The REST contract at the HTTP level: bad input gets a Kubernetes Status, and nothing is lost. */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { startTestControlPlane, MAX_BODY_BYTES, type TestControlPlane } from '../src/index.js';

const crd = parse(readFileSync(new URL('../../../e2e/fixtures/widget-crd.yaml', import.meta.url), 'utf8'));
const WIDGETS = '/apis/test.stratus.io/v1alpha1/namespaces/default/widgets';

describe('API server REST contract', function () {
  this.timeout(30_000);
  let plane: TestControlPlane;
  // A keep-alive socket to a server that was restarted fails once at the connection level: retry only that.
  const call = async (method: string, path: string, body?: string, contentType = 'application/json'): Promise<Response> => {
    const send = () => fetch(plane.server.url + path, { method, body, headers: { Authorization: `Bearer ${plane.token}`, 'Content-Type': contentType } });
    try {
      return await send();
    } catch (e) {
      if ((e as Error).message !== 'fetch failed') throw e;
      return send();
    }
  };
  const json = async (r: Response) => ({ code: r.status, body: (await r.json()) as any });
  const widget = (name: string, size: unknown = 1) => JSON.stringify({ apiVersion: 'test.stratus.io/v1alpha1', kind: 'Widget', metadata: { name }, spec: { size } });

  before(async () => {
    // Plain http here so fetch needs no CA; kubectl's e2e covers TLS.
    plane = await startTestControlPlane({ tls: false, historyLimit: 50 });
    assert.equal((await call('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', JSON.stringify(crd))).status, 201);
    assert.equal((await call('POST', WIDGETS, widget('keep', 4))).status, 201);
  });
  after(() => plane.stop());

  it('requires the bearer token', async () => {
    const r = await fetch(plane.server.url + WIDGETS);
    const body = (await r.json()) as { reason: string };
    assert.equal(r.status, 401);
    assert.equal(body.reason, 'Unauthorized');
  });

  it('answers malformed JSON and YAML with 400 BadRequest', async () => {
    const j = await json(await call('POST', WIDGETS, '{"apiVersion": '));
    assert.equal(j.code, 400);
    assert.equal(j.body.kind, 'Status');
    assert.match(j.body.message, /error decoding JSON/);
    const y = await json(await call('POST', WIDGETS, 'metadata: [unclosed', 'application/yaml'));
    assert.equal(y.code, 400);
    assert.match(y.body.message, /error decoding YAML/);
  });

  it('accepts YAML bodies', async () => {
    const r = await call('POST', WIDGETS, 'apiVersion: test.stratus.io/v1alpha1\nkind: Widget\nmetadata: {name: from-yaml}\nspec: {size: 2}\n', 'application/yaml');
    assert.equal(r.status, 201);
  });

  it('lists a namespaced kind across every namespace, with and without paging', async () => {
    assert.equal((await call('POST', '/api/v1/namespaces', JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'elsewhere' } }))).status, 201);
    assert.equal((await call('POST', '/apis/test.stratus.io/v1alpha1/namespaces/elsewhere/widgets', widget('far'))).status, 201);
    const where = (items: any[]) => items.map((i) => `${i.metadata.namespace}/${i.metadata.name}`);
    const all = await json(await call('GET', '/apis/test.stratus.io/v1alpha1/widgets'));
    assert.ok(where(all.body.items).includes('default/keep') && where(all.body.items).includes('elsewhere/far'), JSON.stringify(where(all.body.items)));
    const first = await json(await call('GET', '/apis/test.stratus.io/v1alpha1/widgets?limit=1'));
    assert.equal(first.body.items.length, 1);
    const rest = await json(await call('GET', `/apis/test.stratus.io/v1alpha1/widgets?limit=500&continue=${encodeURIComponent(first.body.metadata.continue)}`));
    assert.deepEqual([...where(first.body.items), ...where(rest.body.items)], where(all.body.items));
  });

  it('answers unknown kinds and objects with 404 NotFound', async () => {
    const kind = await json(await call('GET', '/apis/test.stratus.io/v1alpha1/namespaces/default/gadgets'));
    assert.equal(kind.code, 404);
    assert.equal(kind.body.reason, 'NotFound');
    const obj = await json(await call('GET', `${WIDGETS}/nope`));
    assert.equal(obj.code, 404);
    assert.equal(obj.body.message, 'widgets.test.stratus.io "nope" not found');
    assert.deepEqual(obj.body.details, { name: 'nope', group: 'test.stratus.io', kind: 'widgets' });
  });

  it('answers schema violations with 422 Invalid naming each field in details.causes', async () => {
    const r = await json(await call('POST', WIDGETS, widget('bad', 'big')));
    assert.equal(r.code, 422);
    assert.equal(r.body.reason, 'Invalid');
    assert.deepEqual(r.body.details.causes.map((c: { field: string }) => c.field), ['spec.size']);
    assert.equal(r.body.details.causes[0].reason, 'FieldValueTypeInvalid');
  });

  it('rejects bodies over 3 MiB with 413, and keeps serving', async () => {
    const huge = JSON.stringify({ apiVersion: 'test.stratus.io/v1alpha1', kind: 'Widget', metadata: { name: 'huge' }, spec: { size: 1, extra: { blob: 'x'.repeat(MAX_BODY_BYTES) } } });
    const r = await json(await call('POST', WIDGETS, huge));
    assert.equal(r.code, 413);
    assert.equal(r.body.reason, 'RequestEntityTooLarge');
    assert.equal((await call('GET', `${WIDGETS}/huge`)).status, 404);
    assert.equal((await call('GET', `${WIDGETS}/keep`)).status, 200);
  });

  it('answers a duplicate with 409 AlreadyExists and a stale resourceVersion with 409 Conflict', async () => {
    const dup = await json(await call('POST', WIDGETS, widget('keep')));
    assert.equal(dup.code, 409);
    assert.equal(dup.body.reason, 'AlreadyExists');
    const live = await json(await call('GET', `${WIDGETS}/keep`));
    const stale = { ...live.body, metadata: { ...live.body.metadata, resourceVersion: '1' }, spec: { size: 9 } };
    const put = await json(await call('PUT', `${WIDGETS}/keep`, JSON.stringify(stale)));
    assert.equal(put.code, 409);
    assert.equal(put.body.reason, 'Conflict');
    const fresh = { ...live.body, spec: { size: 9 } };
    assert.equal((await call('PUT', `${WIDGETS}/keep`, JSON.stringify(fresh))).status, 200);
  });

  it('skips a no-op server-side apply: the resourceVersion stays (Kubernetes does not bump it, so watchers see nothing)', async () => {
    const apply = (size: number) => call('PATCH', `${WIDGETS}/applied?fieldManager=me&force=true`, widget('applied', size), 'application/apply-patch+yaml');
    const first = await json(await apply(3));
    assert.equal(first.code, 201);
    await new Promise((r) => setTimeout(r, 1100)); // managedFields times are whole seconds: a later apply would stamp another
    const again = await json(await apply(3));
    assert.equal(again.code, 200);
    assert.equal(again.body.metadata.resourceVersion, first.body.metadata.resourceVersion);
    const changed = await json(await apply(4));
    assert.notEqual(changed.body.metadata.resourceVersion, first.body.metadata.resourceVersion);
  });

  it('stores a Secret’s stringData under data, base64, on create, patch and apply, and never returns stringData', async () => {
    const SECRETS = '/api/v1/namespaces/default/secrets';
    const made = await json(await call('POST', SECRETS, JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds' }, data: { kept: Buffer.from('old').toString('base64'), over: 'eA==' }, stringData: { over: 'plain text', más: 'ünïcode' } })));
    assert.equal(made.code, 201, JSON.stringify(made.body));
    const read = (await json(await call('GET', `${SECRETS}/creds`))).body;
    assert.equal(read.stringData, undefined);
    assert.deepEqual(Object.fromEntries(Object.entries(read.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()])), { kept: 'old', over: 'plain text', más: 'ünïcode' });
    await call('PATCH', `${SECRETS}/creds`, JSON.stringify({ stringData: { kept: 'new' } }), 'application/merge-patch+json');
    await call('PATCH', `${SECRETS}/applied?fieldManager=test`, JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'applied' }, stringData: { accessKeyId: 'AKIA' } }), 'application/apply-patch+yaml');
    assert.equal(Buffer.from((await json(await call('GET', `${SECRETS}/creds`))).body.data.kept, 'base64').toString(), 'new');
    const applied = (await json(await call('GET', `${SECRETS}/applied`))).body;
    assert.equal(Buffer.from(applied.data.accessKeyId, 'base64').toString(), 'AKIA');
    assert.equal(applied.stringData, undefined);
    const bad = await json(await call('POST', SECRETS, JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bad' }, stringData: { n: 5 } })));
    assert.equal(bad.code, 422);
    assert.match(bad.body.message, /stringData\[n\]/);
  });

  it('answers an unsupported patch type with 415', async () => {
    const r = await call('PATCH', `${WIDGETS}/keep`, '{}', 'application/xml');
    assert.equal(r.status, 415);
  });

  it('pages lists with limit and continue', async () => {
    for (const n of ['p1', 'p2', 'p3']) await call('POST', WIDGETS, widget(n));
    const first = (await json(await call('GET', `${WIDGETS}?limit=2`))).body;
    assert.equal(first.items.length, 2);
    assert.ok(first.metadata.continue);
    const rest = (await json(await call('GET', `${WIDGETS}?limit=100&continue=${first.metadata.continue}`))).body;
    const all = (await json(await call('GET', WIDGETS))).body;
    assert.deepEqual([...first.items, ...rest.items].map((i: { metadata: { name: string } }) => i.metadata.name), all.items.map((i: { metadata: { name: string } }) => i.metadata.name));
  });

  it('sends 410 Expired on a watch from a resourceVersion older than its history, e.g. after a restart', async () => {
    // A revision from before the restart with changes after it: the history that would replay them is gone.
    const rv = Number((await json(await call('GET', WIDGETS))).body.metadata.resourceVersion) - 1;
    await plane.restart();
    const r = await call('GET', `${WIDGETS}?watch=true&resourceVersion=${rv}&timeoutSeconds=2`);
    const line = JSON.parse((await r.text()).split('\n')[0]);
    assert.equal(line.type, 'ERROR');
    assert.equal(line.object.code, 410);
    assert.equal(line.object.reason, 'Expired');
    // From the current revision, a watch works and sees new changes.
    const now = (await json(await call('GET', WIDGETS))).body.metadata.resourceVersion;
    const watch = call('GET', `${WIDGETS}?watch=true&resourceVersion=${now}&timeoutSeconds=1&allowWatchBookmarks=true`);
    await new Promise((res) => setTimeout(res, 100));
    await call('POST', WIDGETS, widget('after-restart'));
    const events = (await (await watch).text()).trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(events.filter((e) => e.type !== 'BOOKMARK').map((e) => [e.type, e.object.metadata.name]), [['ADDED', 'after-restart']]);
    assert.equal((await call('GET', `${WIDGETS}/keep`)).status, 200, 'data survived');
  });
});

describe('API server: a CRD whose schema declares a bare root metadata', function () {
  this.timeout(30_000);
  let plane: TestControlPlane;
  const call = (method: string, path: string, body?: unknown) => fetch(plane.server.url + path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { Authorization: `Bearer ${plane.token}`, 'Content-Type': 'application/json' } });
  before(async () => {
    plane = await startTestControlPlane({ tls: false });
    // As KubeVirt's and CDI's CRDs declare it: `metadata: {type: object}`, with an embedded resource (a template) in spec.
    const schema = {
      type: 'object',
      properties: {
        apiVersion: { type: 'string' },
        kind: { type: 'string' },
        metadata: { type: 'object' },
        spec: { type: 'object', properties: { template: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true, properties: { metadata: { type: 'object' } } } } },
      },
    };
    const crd = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'gadgets.test.stratus.io' }, spec: { group: 'test.stratus.io', scope: 'Namespaced', names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget' }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: schema } }] } };
    assert.equal((await call('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)).status, 201);
  });
  after(() => plane.stop());

  it('keeps all of ObjectMeta under fieldValidation=Strict, as Kubernetes does', async () => {
    const r = await call('POST', '/apis/test.stratus.io/v1/namespaces/default/gadgets?fieldValidation=Strict', {
      apiVersion: 'test.stratus.io/v1',
      kind: 'Gadget',
      metadata: { name: 'g1', labels: { app: 'x' }, annotations: { a: 'b' }, finalizers: ['test.stratus.io/hold'] },
      spec: { template: { metadata: { labels: { kubevirt: 'vm' } }, spec: { anything: 1 } } },
    });
    const body = (await r.json()) as any;
    assert.equal(r.status, 201, JSON.stringify(body));
    assert.equal(body.metadata.name, 'g1');
    assert.deepEqual(body.metadata.labels, { app: 'x' });
    assert.deepEqual(body.metadata.finalizers, ['test.stratus.io/hold']);
    assert.deepEqual(body.spec.template.metadata.labels, { kubevirt: 'vm' }, "an embedded resource's ObjectMeta is kept too");
    const bad = await call('POST', '/apis/test.stratus.io/v1/namespaces/default/gadgets?fieldValidation=Strict', { apiVersion: 'test.stratus.io/v1', kind: 'Gadget', metadata: { name: 'g2' }, spec: { template: { metadata: { bogus: 1 } } } });
    assert.equal(bad.status, 400, 'an unknown field of an embedded ObjectMeta is still refused under Strict');
    assert.match(((await bad.json()) as any).message, /spec\.template\.metadata\.bogus/);
  });
});

describe('API server: validating admission webhooks', function () {
  this.timeout(30_000);
  let plane: TestControlPlane;
  let hook: import('node:http').Server;
  const reviews: any[] = [];
  const call = (method: string, path: string, body?: unknown, contentType = 'application/json') => fetch(plane.server.url + path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { Authorization: `Bearer ${plane.token}`, 'Content-Type': contentType } });
  const widget = (name: string, size: number) => ({ apiVersion: 'test.stratus.io/v1alpha1', kind: 'Widget', metadata: { name }, spec: { size } });
  const config = (name: string, url: string, failurePolicy: string, operations = ['CREATE', 'UPDATE']) => ({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name }, webhooks: [{ name: `${name}.test.stratus.io`, clientConfig: { url }, rules: [{ operations, apiGroups: ['test.stratus.io'], apiVersions: ['*'], resources: ['widgets'] }], failurePolicy, sideEffects: 'None', admissionReviewVersions: ['v1'] }] });

  before(async () => {
    const http = await import('node:http');
    // A webhook that refuses widgets bigger than 5, as a quota would.
    hook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const review = JSON.parse(body);
        reviews.push(review);
        const size = review.request.object?.spec?.size ?? 0;
        const response = size > 5 ? { uid: review.request.uid, allowed: false, status: { code: 403, reason: 'Forbidden', message: `exceeded quota: size ${size} > 5` } } : { uid: review.request.uid, allowed: true };
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response }));
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    plane = await startTestControlPlane({ tls: false });
    assert.equal((await call('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)).status, 201);
    const url = `http://127.0.0.1:${(hook.address() as import('node:net').AddressInfo).port}/validate`;
    assert.equal((await call('POST', '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations', config('quota', url, 'Fail'))).status, 201);
  });
  after(async () => {
    await plane?.stop();
    hook?.close();
  });

  it('refuses a create the webhook denies, with its code and message, and stores nothing', async () => {
    const r = await call('POST', WIDGETS, widget('big', 9));
    assert.equal(r.status, 403);
    const status = (await r.json()) as any;
    assert.equal(status.reason, 'Forbidden');
    assert.equal(status.message, 'admission webhook "quota.test.stratus.io" denied the request: exceeded quota: size 9 > 5');
    assert.equal((await call('GET', `${WIDGETS}/big`)).status, 404);
    const review = reviews.at(-1);
    assert.equal(review.request.operation, 'CREATE');
    assert.deepEqual(review.request.resource, { group: 'test.stratus.io', version: 'v1alpha1', resource: 'widgets' });
    assert.equal(review.request.userInfo.username, 'system:admin');
  });

  it('lets through what it allows, and asks about updates and patches with the object they would store', async () => {
    assert.equal((await call('POST', WIDGETS, widget('small', 2))).status, 201);
    const patched = await call('PATCH', `${WIDGETS}/small`, { spec: { size: 7 } }, 'application/merge-patch+json');
    assert.equal(patched.status, 403);
    assert.equal(reviews.at(-1).request.operation, 'UPDATE');
    assert.equal(reviews.at(-1).request.oldObject.spec.size, 2);
    assert.equal(((await (await call('GET', `${WIDGETS}/small`)).json()) as any).spec.size, 2, 'the refused patch changed nothing');
    assert.equal((await call('PATCH', `${WIDGETS}/small`, { spec: { size: 3 } }, 'application/merge-patch+json')).status, 200);
  });

  it('refuses when a Fail webhook cannot be reached, and ignores an Ignore one', async () => {
    assert.equal((await call('POST', '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations', config('gone', 'http://127.0.0.1:9/nothing', 'Ignore'))).status, 201);
    assert.equal((await call('POST', WIDGETS, widget('fine', 1))).status, 201, 'an unreachable Ignore webhook lets it through');
    assert.equal((await call('POST', '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations', config('broken', 'http://127.0.0.1:9/nothing', 'Fail'))).status, 201);
    const r = await call('POST', WIDGETS, widget('blocked', 1));
    assert.equal(r.status, 500);
    assert.match(((await r.json()) as any).message, /failed calling webhook "broken.test.stratus.io"/);
  });
});
