/**
 * Which Ceph a make test-ceph e2e runs on: the cluster the suite started (STRATUS_TEST_CEPH, its folder), each
 * cloud with a share of its own in it (`stratus up --ceph-cluster`: its pool, cephx user and RGW tenant); run
 * alone, a cluster of the cloud's own (`stratus up --ceph`).
 */
import { cloudCephOf, type CloudCeph, type RunningCloud } from '@stratus/cli';

export const cephArgs = (): string[] => (process.env.STRATUS_TEST_CEPH ? ['--ceph-cluster', process.env.STRATUS_TEST_CEPH] : ['--ceph']);

/** The cloud's Ceph, as stratus up recorded it. */
export function cephOf(cloud: RunningCloud): CloudCeph {
  const ceph = cloudCephOf(cloud.dir);
  if (!ceph) throw new Error(`${cloud.dir} records no Ceph (ceph.json)`);
  return ceph;
}
