/**
 * A compute node for a test suite: the control plane (startComputeEnv), a real S3 server holding the test
 * disk image, Image resources pointing at it as Glance would leave them, the Nova and Glance operators, and a
 * node agent on the system libvirt (QEMU, emulated) with its own state folder.
 */
import { execFile } from 'node:child_process';
import { chmodSync, createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MERGE_PATCH, createLogger, type Logger } from '@stratus/runtime';
import { IMAGES, ImageStore, glanceManager, startEmbeddedS3, type EmbeddedS3, type Image } from '@stratus/glance';
import { agentConfigFromEnv, removeGuestsUnder, startComputeAgent, type AgentConfig, type ComputeAgent } from '../src/index.js';
import { startComputeEnv, type ComputeEnv } from './support.js';

const ROOT = new URL('../../../../', import.meta.url).pathname;
const run = promisify(execFile);

export interface AgentEnv extends ComputeEnv {
  s3: EmbeddedS3;
  store: ImageStore;
  config: AgentConfig;
  agent: ComputeAgent;
  /** The test disk image's path on this machine. */
  testImage: string;
  /** Puts the test disk image into S3 and makes an active Image resource for it in `namespace`. */
  addImage(name: string, namespace?: string, spec?: Partial<Image['spec']>): Promise<void>;
  /** Stops the agent (guests keep running) and starts it again on the same state folder. */
  restartAgent(): Promise<void>;
}

export async function startAgentEnv(overrides: Partial<AgentConfig> = {}): Promise<AgentEnv> {
  const testImage = (await run('bash', [join(ROOT, 'hack/build-test-image.sh')], { maxBuffer: 1 << 20 })).stdout.trim().split('\n').pop()!;
  await run(join(ROOT, 'hack/start-libvirt.sh'));
  const env = await startComputeEnv();
  const work = mkdtempSync(join(tmpdir(), 'nova-agent-'));
  chmodSync(work, 0o755); // QEMU runs as its own user and must reach the disks
  const s3 = await startEmbeddedS3({ directory: join(work, 's3') });
  const store = new ImageStore({ endpoint: s3.endpoint, bucket: 'test-images', accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey });
  await store.ensureBucket();
  const config: AgentConfig = {
    ...agentConfigFromEnv({}),
    host: `test-node-${process.pid}`,
    stateDir: join(work, 'nova'),
    listenPort: 0,
    heartbeatSeconds: 2,
    shutdownTimeoutSeconds: 20,
    ...overrides,
  };
  const logger: Logger = createLogger('nova-compute-test', process.env.STRATUS_LOG_LEVEL ?? 'error');
  await env.startNova({ workers: 2 });
  // Glance's operator too: it guards image data with its finalizer, and snapshots go through its data path.
  const glance = glanceManager({ store }, { kubeConfig: env.kubeConfig, logger: createLogger('glance-test', 'error') });
  await glance.start();
  const start = () => startComputeAgent({ config, kubeConfig: env.kubeConfig, logger, store });
  let agent = await start();
  const stored = await store.put('images/test-disk', createReadStream(testImage));
  const virtualSize = JSON.parse((await run('qemu-img', ['info', '--output=json', testImage])).stdout)['virtual-size'];
  return {
    ...env,
    s3,
    store,
    config,
    get agent() {
      return agent;
    },
    testImage,
    async addImage(name, namespace = 'demo', spec = {}) {
      await env.client.create(IMAGES, { apiVersion: 'image.stratus.io/v1alpha1', kind: 'Image', metadata: { name, namespace }, spec: { diskFormat: 'raw', ...spec } } as Image, 'test');
      await env.client.patch(IMAGES, namespace, name, { status: { phase: 'active', size: stored.size, virtualSize, checksum: stored.checksum, location: stored.location } }, 'test', MERGE_PATCH, 'status');
    },
    async restartAgent() {
      await agent.stop();
      agent = await start();
    },
    async stop() {
      await agent.stop();
      await glance.stop();
      // Guests outlive their agent: whatever a failed test left running goes with the suite.
      await removeGuestsUnder(work).catch(() => []);
      await env.stop();
      store.destroy();
      await s3.close();
      rmSync(work, { recursive: true, force: true });
    },
  };
}
