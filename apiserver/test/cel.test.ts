/** CEL validation rules (x-kubernetes-validations) on custom resources, as Kubernetes documents them. */
import { strict as assert } from 'node:assert';
import { compileRules, RuleCompileError } from '../src/cel.js';
import { startTestControlPlane, type TestControlPlane } from '../src/index.js';

const spec = (validations: unknown[], properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  type: 'object',
  properties: { spec: { type: 'object', 'x-kubernetes-validations': validations, properties, ...extra } },
});

describe('CEL validation rules', () => {
  it('passes a true rule and names the field and message of a false one, with "failed rule" when no message is given', () => {
    const rules = compileRules(spec([{ rule: 'self.min <= self.max', message: 'min must not exceed max' }, { rule: 'self.max < 100' }], { min: { type: 'integer' }, max: { type: 'integer' } }))!;
    assert.deepEqual(rules.validate({ spec: { min: 1, max: 2 } }), []);
    assert.deepEqual(rules.validate({ spec: { min: 300, max: 200 } }), [
      { reason: 'FieldValueInvalid', message: 'Invalid value: "object": min must not exceed max', field: 'spec' },
      { reason: 'FieldValueInvalid', message: 'Invalid value: "object": failed rule: self.max < 100', field: 'spec' },
    ]);
  });

  it('evaluates rules on list items (each named by index), map values, strings with RE2 and the strings library', () => {
    const rules = compileRules(
      spec([], {
        ports: { type: 'array', items: { type: 'object', 'x-kubernetes-validations': [{ rule: 'self.port > 0 && self.port < 65536', message: 'port out of range' }], properties: { port: { type: 'integer' } } } },
        labels: { type: 'object', additionalProperties: { type: 'string', 'x-kubernetes-validations': [{ rule: "self.matches('^[a-z]+$')", messageExpression: "'label value ' + self + ' is not lowercase letters'" }] } },
        name: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self.lowerAscii() == self', reason: 'FieldValueForbidden', message: 'must be lowercase' }] },
      }),
    )!;
    const causes = rules.validate({ spec: { ports: [{ port: 80 }, { port: 70000 }], labels: { ok: 'abc', bad: 'ABC' }, name: 'Web' } });
    assert.deepEqual(causes, [
      { reason: 'FieldValueInvalid', message: 'Invalid value: "object": port out of range', field: 'spec.ports[1]' },
      { reason: 'FieldValueInvalid', message: 'Invalid value: "string": label value ABC is not lowercase letters', field: 'spec.labels[bad]' },
      { reason: 'FieldValueForbidden', message: 'Forbidden: must be lowercase', field: 'spec.name' },
    ]);
  });

  it('runs transition rules (oldSelf) only on updates with an old value; map list items meet their old selves by key', () => {
    const rules = compileRules(
      spec([], {
        zone: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'Value is immutable' }] },
        disks: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
          items: { type: 'object', 'x-kubernetes-validations': [{ rule: 'self.size >= oldSelf.size', message: 'a disk cannot shrink' }], properties: { name: { type: 'string' }, size: { type: 'integer' } } },
        },
      }),
    )!;
    assert.deepEqual(rules.validate({ spec: { zone: 'a', disks: [{ name: 'd', size: 1 }] } }), [], 'a create has no old value');
    const old = { spec: { zone: 'a', disks: [{ name: 'x', size: 5 }, { name: 'd', size: 10 }] } };
    assert.deepEqual(rules.validate({ spec: { zone: 'a', disks: [{ name: 'd', size: 20 }, { name: 'new', size: 1 }] } }, old), []);
    assert.deepEqual(
      rules.validate({ spec: { zone: 'b', disks: [{ name: 'd', size: 5 }] } }, old).map((c) => `${c.field}: ${c.message}`),
      ['spec.zone: Invalid value: "string": Value is immutable', 'spec.disks[0]: Invalid value: "object": a disk cannot shrink'],
    );
  });

  it('reports a rule that fails to evaluate (a missing field) as Kubernetes does, and skips absent values', () => {
    const rules = compileRules(spec([{ rule: 'self.replicas > 1' }], { replicas: { type: 'integer' } }))!;
    const [cause] = rules.validate({ spec: {} });
    assert.equal(cause.field, 'spec');
    assert.match(cause.message, /^Invalid value: "object": .*replicas.* evaluating rule: self\.replicas > 1$/);
    assert.deepEqual(rules.validate({}), [], 'no spec, nothing to evaluate');
  });

  it('refuses a rule that does not compile, naming where it is', () => {
    assert.throws(
      () => compileRules(spec([{ rule: 'self.a >' }], {})),
      (e: unknown) => e instanceof RuleCompileError && e.problems[0].path === 'openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule' && /compilation failed/.test(e.problems[0].message),
    );
    assert.equal(compileRules(spec([], {})), undefined, 'a schema without rules costs nothing');
  });
});

describe('CEL rules over HTTP', function () {
  this.timeout(30_000);
  let plane: TestControlPlane;
  const call = (method: string, path: string, body?: unknown, contentType = 'application/json') =>
    fetch(plane.server.url + path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { Authorization: `Bearer ${plane.token}`, 'Content-Type': contentType } });
  const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
  const crd = (rule: string) => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'ranges.test.stratus.io' },
    spec: {
      group: 'test.stratus.io',
      scope: 'Namespaced',
      names: { plural: 'ranges', singular: 'range', kind: 'Range', listKind: 'RangeList' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: spec([{ rule, message: 'min must not exceed max' }], {
              min: { type: 'integer' },
              max: { type: 'integer' },
              zone: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'Value is immutable' }] },
            }),
          },
        },
      ],
    },
  });
  const RANGES = '/apis/test.stratus.io/v1/namespaces/default/ranges';
  const range = (min: number, max: number, zone = 'a') => ({ apiVersion: 'test.stratus.io/v1', kind: 'Range', metadata: { name: 'r' }, spec: { min, max, zone } });

  before(async () => {
    plane = await startTestControlPlane({ tls: false });
  });
  after(() => plane.stop());

  it('refuses a CRD whose rule does not compile (422, the rule named) and stores nothing', async () => {
    const r = await call('POST', CRDS, crd('self.min <='));
    assert.equal(r.status, 422);
    const body = (await r.json()) as any;
    assert.equal(body.details.causes[0].field, 'spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule');
    assert.equal((await call('GET', `${CRDS}/ranges.test.stratus.io`)).status, 404);
  });

  it('refuses a create or update that fails a rule with 422 Invalid, and keeps what was stored', async () => {
    assert.equal((await call('POST', CRDS, crd('self.min <= self.max'))).status, 201);
    const bad = await call('POST', RANGES, range(5, 1));
    assert.equal(bad.status, 422);
    const body = (await bad.json()) as any;
    assert.equal(body.reason, 'Invalid');
    assert.equal(body.message, 'Range.test.stratus.io "r" is invalid: spec: Invalid value: "object": min must not exceed max');
    assert.equal((await call('GET', `${RANGES}/r`)).status, 404, 'nothing was stored');
    assert.equal((await call('POST', RANGES, range(1, 5))).status, 201);
    const moved = await call('PATCH', `${RANGES}/r`, { spec: { zone: 'b' } }, 'application/merge-patch+json');
    assert.equal(moved.status, 422);
    assert.match(((await moved.json()) as any).message, /spec\.zone: Invalid value: "string": Value is immutable/);
    assert.equal((await call('PATCH', `${RANGES}/r`, { spec: { max: 9 } }, 'application/merge-patch+json')).status, 200, 'a change the rules allow is taken');
    assert.equal(((await (await call('GET', `${RANGES}/r`)).json()) as any).spec.zone, 'a');
  });
});
