/**
 * Runs an operator's controllers: metrics and health, optional leader election, and a graceful shutdown
 * that lets reconciles in flight finish before the process exits.
 */
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { hostname } from 'node:os';
import type { Server } from 'node:http';
import { KubeClient, type ResourceRef } from './client.js';
import { Controller, type ControllerSpec } from './controller.js';
import { EventRecorder } from './events.js';
import { SharedInformers, type InformerOptions, type SelfHealingInformer } from './informer.js';
import { LeaderElector } from './leader.js';
import { createLogger, type Logger } from './logger.js';
import { Metrics } from './metrics.js';

export interface ManagerOptions {
  /** The operator's name: its field manager, event source and log component. */
  name: string;
  kubeConfig?: KubeConfig;
  logger?: Logger;
  /** Port for /metrics and /healthz; undefined = no server, 0 = any free port. */
  metricsPort?: number;
  leaderElection?: { namespace: string; leaseName?: string; identity?: string; leaseDurationSeconds?: number; retryPeriodMs?: number };
}

export class Manager {
  readonly kc: KubeConfig;
  readonly client: KubeClient;
  readonly log: Logger;
  readonly metrics = new Metrics();
  readonly events: EventRecorder;
  private readonly informers: SharedInformers;
  private readonly controllers: Array<Controller<any>> = [];
  private readonly startHooks: Array<() => Promise<void>> = [];
  private readonly stopHooks: Array<() => Promise<void>> = [];
  private elector?: LeaderElector;
  private metricsServer?: Server;
  metricsPort?: number;
  private running = false;

  constructor(readonly opts: ManagerOptions) {
    this.kc = opts.kubeConfig ?? loadKubeConfig();
    this.client = new KubeClient(this.kc);
    this.log = opts.logger ?? createLogger(opts.name);
    this.events = new EventRecorder(this.client, opts.name, this.log);
    this.informers = new SharedInformers(this.kc, this.client, this.log);
  }

  /**
   * The informer this manager's controllers share for these objects: a cache for reconcilers to read from.
   * Start it in an onStart hook (starting is idempotent); the manager stops it after the controllers.
   */
  informer<T extends KubernetesObject>(ref: ResourceRef, opts: InformerOptions = {}): SelfHealingInformer<T> {
    return this.informers.get<T>(ref, opts);
  }

  add<T extends KubernetesObject>(spec: ControllerSpec<T>): Controller<T> {
    const c = new Controller<T>(spec, this.kc, this.client, this.events, this.log, this.metrics, (ref, opts) => this.informers.get(ref, opts));
    this.controllers.push(c);
    return c;
  }

  /** Runs before the controllers start (once leader): say, an informer the reconcilers read from. */
  onStart(hook: () => Promise<void>): void {
    this.startHooks.push(hook);
  }

  /** Runs after the controllers have stopped. */
  onStop(hook: () => Promise<void>): void {
    this.stopHooks.push(hook);
  }

  get isLeader(): boolean {
    return this.elector ? this.elector.isLeader : this.running;
  }

  /** Serves metrics, waits to be elected (if configured), then starts every controller. */
  async start(): Promise<void> {
    if (this.opts.metricsPort !== undefined) {
      const { server, port } = await this.metrics.serve(this.opts.metricsPort, '127.0.0.1', () => this.running);
      this.metricsServer = server;
      this.metricsPort = port;
    }
    const le = this.opts.leaderElection;
    if (le) {
      const leaseName = le.leaseName ?? `${this.opts.name}-leader`;
      this.elector = new LeaderElector(this.client, { ...le, leaseName, identity: le.identity ?? `${hostname()}_${process.pid}` }, this.log);
      await this.elector.run(() => {
        this.metrics.isLeader.set({ lease: leaseName }, 0);
        void this.stop();
      });
      if (!this.elector.isLeader) return;
      this.metrics.isLeader.set({ lease: leaseName }, 1);
    }
    await Promise.all(this.startHooks.map((h) => h()));
    await Promise.all(this.controllers.map((c) => c.start()));
    this.running = true;
    this.log.info('manager started', { controllers: this.controllers.map((c) => c.spec.name) });
  }

  /** Stops controllers (finishing reconciles in flight), hands back the lease, closes the metrics server. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.controllers.map((c) => c.stop()));
    await this.events.flush();
    await Promise.all(this.stopHooks.map((h) => h()));
    await this.informers.stop();
    await this.elector?.stop();
    await new Promise<void>((resolve) => (this.metricsServer ? this.metricsServer.close(() => resolve()) : resolve()));
    this.log.info('manager stopped');
  }

  /** Stops gracefully on SIGTERM/SIGINT, then exits. */
  stopOnSignals(): void {
    for (const signal of ['SIGTERM', 'SIGINT'] as const)
      process.once(signal, () => {
        this.log.info('signal received; shutting down', { signal });
        void this.stop().then(() => process.exit(0));
      });
  }
}

/** KUBECONFIG, ~/.kube/config or the in-cluster service account, as kubectl would find them. */
export function loadKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}
