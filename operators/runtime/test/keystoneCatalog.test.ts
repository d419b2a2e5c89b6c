/** Finding another service's endpoint in a token's catalog (pure). */
import { strict as assert } from 'node:assert';
import { endpointIn, type CatalogService } from '../src/index.js';

describe('endpointIn', () => {
  const catalog: CatalogService[] = [
    { type: 'compute', endpoints: [{ interface: 'public', url: 'http://cloud/compute/v2.1' }] },
    { type: 'volumev3', endpoints: [{ interface: 'public', url: 'http://cloud/volume/v3/' }] },
    { type: 'block-storage', endpoints: [{ interface: 'public', url: 'http://cloud/volume/v3' }, { interface: 'internal', url: 'http://cinder.svc:8776/v3' }] },
  ];

  it('takes the first type the catalog has, its internal endpoint before its public one', () => {
    assert.equal(endpointIn(catalog, ['block-storage', 'volumev3']), 'http://cinder.svc:8776/v3');
    assert.equal(endpointIn(catalog, ['volumev3', 'block-storage']), 'http://cloud/volume/v3', 'without its trailing slash');
    assert.equal(endpointIn(catalog, ['block-storage'], ['public']), 'http://cloud/volume/v3');
  });

  it('finds nothing where the catalog has no such service or interface', () => {
    assert.equal(endpointIn(catalog, ['image']), undefined);
    assert.equal(endpointIn(catalog, ['compute'], ['admin']), undefined);
  });
});
