/** The compute agent's hold on a volume attachment (its finalizer), let go against a real control plane. */
import { strict as assert } from 'node:assert';
import { PLUGGED_FINALIZER, VOLUME_ATTACHMENTS, type VolumeAttachment } from '@stratus/cinder';
import { isConflict, MERGE_PATCH } from '@stratus/runtime';
import { releaseAttachment } from '../../src/agent/volumes.js';
import { startComputeEnv, type ComputeEnv } from '../support.js';

describe("the compute agent's hold on an attachment", function () {
  this.timeout(60_000);
  let env: ComputeEnv;
  before(async () => (env = await startComputeEnv()));
  after(() => env.stop());

  const held = (name: string) =>
    env.client.create<VolumeAttachment>(VOLUME_ATTACHMENTS, { apiVersion: 'blockstorage.stratus.io/v1alpha1', kind: 'VolumeAttachment', metadata: { name, namespace: 'demo', finalizers: [PLUGGED_FINALIZER] }, spec: { volume: 'data', instance: 'web' } } as never, 'test');
  const finalizersOf = async (name: string) => (await env.client.get<VolumeAttachment>(VOLUME_ATTACHMENTS, 'demo', name))?.metadata.finalizers ?? [];

  it('says so when it could not let go (a newer copy), keeping the hold for the next try, which lets go', async () => {
    const stale = await held('att-1');
    await env.client.patch(VOLUME_ATTACHMENTS, 'demo', 'att-1', { metadata: { labels: { changed: 'yes' } } }, 'test', MERGE_PATCH);
    await assert.rejects(releaseAttachment(env.client, stale, 'test'), isConflict, 'a conflict is not swallowed');
    assert.deepEqual(await finalizersOf('att-1'), [PLUGGED_FINALIZER]);
    const fresh = (await env.client.get<VolumeAttachment>(VOLUME_ATTACHMENTS, 'demo', 'att-1'))!;
    await releaseAttachment(env.client, fresh, 'test');
    assert.deepEqual(await finalizersOf('att-1'), []);
  });

  it('is done when the attachment is gone already', async () => {
    const copy = await held('att-2');
    await env.client.patch(VOLUME_ATTACHMENTS, 'demo', 'att-2', { metadata: { finalizers: [] } }, 'test', MERGE_PATCH);
    await env.client.delete(VOLUME_ATTACHMENTS, 'demo', 'att-2');
    assert.equal(await env.client.get(VOLUME_ATTACHMENTS, 'demo', 'att-2'), undefined);
    await releaseAttachment(env.client, copy, 'test');
  });
});
