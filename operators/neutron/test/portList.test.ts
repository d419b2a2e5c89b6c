import { strict as assert } from 'node:assert';
import { fixedIPsFilter } from '../src/api/portRoutes.js';

describe('the fixed_ips filter of a port list', () => {
  const port = [
    { subnet_id: 'sub-a', ip_address: '10.0.0.5' },
    { subnet_id: 'sub-b', ip_address: '10.1.0.7' },
  ];

  it('keeps a port with one of the addresses asked for, and on one of the subnets asked for', () => {
    assert.equal(fixedIPsFilter([])(port), true, 'no filter: every port');
    assert.equal(fixedIPsFilter(['ip_address=10.1.0.7'])(port), true);
    assert.equal(fixedIPsFilter(['ip_address=10.0.0.9', 'ip_address=10.0.0.5'])(port), true, 'any of several addresses');
    assert.equal(fixedIPsFilter(['ip_address=10.0.0.9'])(port), false);
    assert.equal(fixedIPsFilter(['subnet_id=sub-b'])(port), true);
    assert.equal(fixedIPsFilter(['subnet_id=sub-c'])(port), false);
    assert.equal(fixedIPsFilter(['ip_address=10.0.0.5', 'subnet_id=sub-c'])(port), false, 'both asked: both must hold');
    assert.equal(fixedIPsFilter(['ip_address=10.0.0.5'])([]), false, 'a port without addresses');
  });

  it('keeps a port with an address holding a part asked for (ip_address_substr), as Tempest’s substring test lists them', () => {
    assert.equal(fixedIPsFilter(['ip_address_substr=10.1.0.'])(port), true);
    assert.equal(fixedIPsFilter(['ip_address_substr=0.0.5'])(port), true, 'anywhere in the address');
    assert.equal(fixedIPsFilter(['ip_address_substr=10.2.'])(port), false);
    assert.equal(fixedIPsFilter(['ip_address_substr=10.', 'subnet_id=sub-c'])(port), false, 'with another filter, both must hold');
  });

  it('refuses a value that is not key=value, as Neutron does', () => {
    assert.throws(() => fixedIPsFilter(['10.0.0.5']), /'10\.0\.0\.5' is not of the form <key>=\[value\]/);
  });
});
