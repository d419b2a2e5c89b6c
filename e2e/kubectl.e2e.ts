/** A user's session with the real kubectl against the embedded control plane, including a restart in the middle. */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { TestCluster, fixture } from './lib/cluster.js';

const widget = (name: string, spec: string, extraMeta = '') =>
  `apiVersion: test.stratus.io/v1alpha1\nkind: Widget\nmetadata:\n  name: ${name}\n${extraMeta}spec: ${spec}\n`;

describe('kubectl against the embedded control plane', function () {
  this.timeout(120_000);
  const c = new TestCluster();

  before(async () => {
    await c.start();
    await c.ok(['apply', '-f', fixture('widget-crd.yaml')]);
    await c.ok(['wait', '--for=condition=Established', 'crd/widgets.test.stratus.io', '--timeout=10s']);
  });
  after(() => c.stop());

  it('reports its version and lists built-in and custom resources', async () => {
    assert.match(await c.ok(['version']), /Server Version: v1\.32/);
    const resources = await c.ok(['api-resources']);
    for (const line of [/^configmaps\s+cm\s+v1\s+true\s+ConfigMap/m, /^namespaces\s+ns\s+v1\s+false\s+Namespace/m, /^leases\s+coordination\.k8s\.io\/v1\s+true\s+Lease/m, /^widgets\s+wg\s+test\.stratus\.io\/v1alpha1\s+true\s+Widget/m])
      assert.match(resources, line);
  });

  it('creates built-in kinds imperatively (kubectl sends them as protobuf)', async () => {
    await c.ok(['create', 'namespace', 'imperative']);
    await c.ok(['create', 'configmap', 'cfg', '-n', 'imperative', '--from-literal=a=1', '--from-literal=empty=']);
    await c.ok(['create', 'secret', 'generic', 'pw', '-n', 'imperative', '--from-literal=password=s3cr3t!']);
    await c.ok(['create', 'serviceaccount', 'bot', '-n', 'imperative']);
    await c.ok(['create', 'role', 'reader', '-n', 'imperative', '--verb=get,list', '--resource=configmaps']);
    await c.ok(['create', 'rolebinding', 'rb', '-n', 'imperative', '--role=reader', '--serviceaccount=imperative:bot']);
    assert.equal((await c.ok(['get', 'ns', 'imperative', '-o', 'jsonpath={.status.phase}'])), 'Active');
    assert.deepEqual(JSON.parse(await c.ok(['get', 'cm', 'cfg', '-n', 'imperative', '-o', 'jsonpath={.data}'])), { a: '1', empty: '' });
    const secret = JSON.parse(await c.ok(['get', 'secret', 'pw', '-n', 'imperative', '-o', 'json']));
    assert.equal(Buffer.from(secret.data.password, 'base64').toString(), 's3cr3t!');
    assert.equal(secret.type, 'Opaque', 'defaulted as kube-apiserver does');
    const role = JSON.parse(await c.ok(['get', 'role', 'reader', '-n', 'imperative', '-o', 'json']));
    assert.deepEqual(role.rules, [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }]);
    const rb = JSON.parse(await c.ok(['get', 'rolebinding', 'rb', '-n', 'imperative', '-o', 'json']));
    assert.deepEqual(rb.subjects, [{ kind: 'ServiceAccount', name: 'bot', namespace: 'imperative' }]);
    assert.deepEqual(rb.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' });
  });

  it('applies a custom resource, defaults it and prints its columns', async () => {
    assert.match(await c.ok(['apply', '-f', fixture('widget.yaml')]), /widget.test.stratus.io\/w1 created/);
    const table = await c.ok(['get', 'widgets']);
    assert.match(table, /^NAME\s+SIZE\s+PHASE\s+READY\s+AGE$/m);
    assert.match(table, /^w1\s+3\s+\d+s$/m);
    const obj = JSON.parse(await c.ok(['get', 'widget', 'w1', '-o', 'json']));
    assert.equal(obj.spec.color, 'blue', 'schema default applied');
    assert.equal(obj.metadata.generation, 1);
    assert.match(await c.ok(['get', 'wg', 'w1', '-o', 'yaml']), /size: 3/);
    assert.match(await c.ok(['get', 'stratus']), /^w1\s+3\s/m, 'the category lists the kind');
    // Applying the same manifest again changes nothing.
    assert.match(await c.ok(['apply', '-f', fixture('widget.yaml')]), /unchanged/);
  });

  it('rejects schema violations with every failing field named, and stores nothing', async () => {
    const bad = await c.kubectl(['apply', '-f', '-'], widget('bad', '{size: 0, color: pink}'));
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /spec\.size: Invalid value: 0: spec\.size in body should be greater than or equal to 1/);
    assert.match(bad.stderr, /spec\.color: Unsupported value: "pink"/);
    const missing = await c.kubectl(['create', '-f', '-'], widget('bad', '{color: red}'));
    assert.match(missing.stderr, /spec\.size: Required value/);
    const unknown = await c.kubectl(['apply', '-f', '-'], widget('bad', '{size: 2, colour: red}'));
    assert.match(unknown.stderr, /strict decoding error: unknown field "spec\.colour"/);
    const get = await c.kubectl(['get', 'widget', 'bad']);
    assert.match(get.stderr, /NotFound.*"bad" not found/);
  });

  it('selects by label and by field', async () => {
    await c.ok(['apply', '-f', '-'], widget('w2', '{size: 4}', '  labels: {tier: gold}\n'));
    assert.deepEqual((await c.ok(['get', 'widgets', '-l', 'tier=gold', '-o', 'name'])).trim().split('\n'), ['widget.test.stratus.io/w2']);
    assert.deepEqual((await c.ok(['get', 'widgets', '-l', 'app=demo,tier notin (gold)', '-o', 'name'])).trim().split('\n'), ['widget.test.stratus.io/w1']);
    assert.deepEqual((await c.ok(['get', 'widgets', '--field-selector', 'metadata.name=w2', '-o', 'name'])).trim().split('\n'), ['widget.test.stratus.io/w2']);
    assert.equal((await c.ok(['get', 'widgets', '-l', 'tier=silver', '-o', 'name'])).trim(), '');
  });

  it('patches with merge and JSON patches; generation moves only with spec', async () => {
    await c.ok(['patch', 'widget', 'w1', '--type=merge', '-p', '{"spec":{"size":5}}']);
    await c.ok(['patch', 'widget', 'w1', '--type=json', '-p', '[{"op":"replace","path":"/spec/color","value":"red"}]']);
    await c.ok(['patch', 'widget', 'w1', '--type=merge', '-p', '{"metadata":{"labels":{"extra":"yes"}}}']);
    const obj = JSON.parse(await c.ok(['get', 'widget', 'w1', '-o', 'json']));
    assert.equal(obj.spec.size, 5);
    assert.equal(obj.spec.color, 'red');
    assert.equal(obj.metadata.generation, 3, 'two spec changes, one metadata-only change');
    const invalid = await c.kubectl(['patch', 'widget', 'w1', '--type=merge', '-p', '{"spec":{"size":500}}']);
    assert.match(invalid.stderr, /spec\.size: Invalid value: 500/);
  });

  it('keeps status on its subresource: status writes via /status only', async () => {
    await c.ok(['patch', 'widget', 'w1', '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Running"}}']);
    await c.ok(['patch', 'widget', 'w1', '--type=merge', '-p', '{"status":{"phase":"Ignored"}}']);
    const obj = JSON.parse(await c.ok(['get', 'widget', 'w1', '-o', 'json']));
    assert.equal(obj.status.phase, 'Running');
    assert.equal(obj.metadata.generation, 3, 'a status write is not a spec change');
  });

  it('waits for a condition that a controller sets later', async () => {
    const waiting = c.kubectl(['wait', '--for=condition=Ready', 'widget/w1', '--timeout=20s']);
    await new Promise((r) => setTimeout(r, 700));
    await c.ok(['patch', 'widget', 'w1', '--subresource=status', '--type=merge', '-p', '{"status":{"conditions":[{"type":"Ready","status":"True","reason":"Done","message":"ok"}]}}']);
    const r = await waiting;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /widget.test.stratus.io\/w1 condition met/);
  });

  it('streams changes to `get -w`', async () => {
    const child = spawn('kubectl', ['get', 'widgets', '-w', '--request-timeout=0'], { env: { ...process.env, KUBECONFIG: c.kubeconfig, HOME: c.dataDir } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    await new Promise((r) => setTimeout(r, 1000));
    await c.ok(['patch', 'widget', 'w2', '--type=merge', '-p', '{"spec":{"size":42}}']);
    const deadline = Date.now() + 10_000;
    while (!/^w2\s+42\s/m.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    child.kill();
    assert.match(out, /^w1\s+5\s+Running\s+True/m, 'initial listing');
    assert.match(out, /^w2\s+42\s/m, 'the change arrived on the watch');
  });

  it('server-side applies, reports conflicts with other managers, and forces them', async () => {
    const manifest = widget('ssa', '{size: 7}');
    assert.match(await c.ok(['apply', '--server-side', '-f', '-'], manifest), /serverside-applied/);
    await c.ok(['patch', 'widget', 'ssa', '--type=merge', '-p', '{"spec":{"size":8}}']);
    const conflict = await c.kubectl(['apply', '--server-side', '-f', '-'], manifest);
    assert.notEqual(conflict.code, 0);
    assert.match(conflict.stderr, /conflict with "kubectl-patch".*\.spec\.size/);
    await c.ok(['apply', '--server-side', '--force-conflicts', '-f', '-'], manifest);
    const obj = JSON.parse(await c.ok(['get', 'widget', 'ssa', '-o', 'json', '--show-managed-fields']));
    assert.equal(obj.spec.size, 7);
    const applyEntry = obj.metadata.managedFields.find((m: { operation: string }) => m.operation === 'Apply');
    assert.equal(applyEntry.manager, 'kubectl');
    assert.ok(applyEntry.fieldsV1['f:spec']['f:size']);
    // Dropping a field from the applied manifest removes it from the object.
    await c.ok(['apply', '--server-side', '-f', '-'], widget('ssa', '{size: 7, color: green}'));
    await c.ok(['apply', '--server-side', '-f', '-'], widget('ssa', '{size: 7}'));
    const after = JSON.parse(await c.ok(['get', 'widget', 'ssa', '-o', 'json']));
    assert.equal(after.spec.color, 'blue', 'the removed field falls back to its default');
  });

  it('diffs a manifest against the live object without changing it', async () => {
    const same = await c.kubectl(['diff', '-f', fixture('widget.yaml')]);
    assert.equal(same.code, 1, 'w1 was patched since, so the manifest differs');
    assert.match(same.stdout, /-\s+size: 5\n\+\s+size: 3/);
    const live = JSON.parse(await c.ok(['get', 'widget', 'w1', '-o', 'json']));
    assert.equal(live.spec.size, 5, 'diff is a dry run');
    const server = await c.kubectl(['diff', '--server-side', '--force-conflicts', '-f', fixture('widget.yaml')]);
    assert.equal(server.code, 1);
  });

  it('explains custom resource fields from the CRD schema', async () => {
    const out = await c.ok(['explain', 'widgets.spec']);
    assert.match(out, /KIND:\s+Widget/);
    assert.match(out, /size\s+<integer> -required-\n\s+How big the widget is, 1 to 100\./);
    assert.match(await c.ok(['explain', 'widget.spec.color']), /red\s+green\s+blue/);
  });

  it('holds an object with finalizers until they are removed', async () => {
    await c.ok(['apply', '-f', '-'], widget('held', '{size: 1}', '  finalizers: [test.stratus.io/hold]\n'));
    await c.ok(['delete', 'widget', 'held', '--wait=false']);
    const obj = JSON.parse(await c.ok(['get', 'widget', 'held', '-o', 'json']));
    assert.ok(obj.metadata.deletionTimestamp, 'terminating');
    await c.ok(['patch', 'widget', 'held', '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);
    assert.match((await c.kubectl(['get', 'widget', 'held'])).stderr, /not found/);
  });

  it('deletes a namespace with its contents, and collects dependents of deleted owners', async () => {
    await c.ok(['apply', '-f', '-'], 'apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: owner, namespace: team}\ndata: {a: b}\n');
    const uid = (await c.ok(['get', 'cm', 'owner', '-n', 'team', '-o', 'jsonpath={.metadata.uid}'])).trim();
    const owned = (name: string) => `  namespace: team\n  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: owner, uid: "${uid}", blockOwnerDeletion: true}]\n`;
    await c.ok(['apply', '-f', '-'], widget('child', '{size: 1}', owned('child')));
    await c.ok(['delete', 'cm', 'owner', '-n', 'team', '--cascade=foreground']);
    assert.match((await c.kubectl(['get', 'widget', 'child', '-n', 'team'])).stderr, /not found/, 'foreground deletion removed the dependent first');

    await c.ok(['apply', '-f', '-'], widget('inside', '{size: 1}', '  namespace: team\n'));
    await c.ok(['delete', 'namespace', 'team', '--timeout=20s']);
    assert.match((await c.kubectl(['get', 'namespace', 'team'])).stderr, /not found/);
    assert.equal((await c.ok(['get', 'widgets', '-A', '-o', 'name'])).includes('inside'), false);
  });

  it('keeps every object and the resourceVersion sequence across a restart', async () => {
    const before = JSON.parse(await c.ok(['get', 'widgets', '-o', 'json']));
    await c.restart();
    const after = JSON.parse(await c.ok(['get', 'widgets', '-o', 'json']));
    assert.deepEqual(after.items.map((i: { metadata: { name: string } }) => i.metadata.name), before.items.map((i: { metadata: { name: string } }) => i.metadata.name));
    assert.deepEqual(after.items[0], before.items[0]);
    await c.ok(['patch', 'widget', 'w1', '--type=merge', '-p', '{"spec":{"size":6}}']);
    const rv = Number(JSON.parse(await c.ok(['get', 'widget', 'w1', '-o', 'json'])).metadata.resourceVersion);
    assert.ok(rv > Number(before.metadata.resourceVersion), `resourceVersion ${rv} continues after ${before.metadata.resourceVersion}`);
    assert.match(await c.ok(['get', 'crd']), /widgets\.test\.stratus\.io/);
  });

  it('deletes a CRD together with all its objects', async () => {
    await c.ok(['delete', 'crd', 'widgets.test.stratus.io', '--timeout=20s']);
    const r = await c.kubectl(['get', 'widgets']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /the server doesn't have a resource type "widgets"|could not find the requested resource/);
    // Nothing is left behind in storage either: a re-created CRD starts empty.
    await c.ok(['apply', '-f', fixture('widget-crd.yaml')]);
    await c.ok(['wait', '--for=condition=Established', 'crd/widgets.test.stratus.io', '--timeout=10s']);
    assert.equal((await c.ok(['get', 'widgets', '-A', '-o', 'name'])).trim(), '');
    assert.ok(readFileSync(fixture('widget-crd.yaml'), 'utf8').includes('Widget'));
  });
});
