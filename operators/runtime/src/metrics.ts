/** Prometheus metrics for reconcilers and queues, served with a health check on one small HTTP server. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly reconcileTotal = new Counter({ name: 'stratus_reconcile_total', help: 'Reconciles by controller and result.', labelNames: ['controller', 'result'], registers: [this.registry] });
  readonly reconcileSeconds = new Histogram({
    name: 'stratus_reconcile_duration_seconds',
    help: 'Time spent in one reconcile.',
    labelNames: ['controller'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({ name: 'stratus_workqueue_depth', help: 'Keys waiting in the work queue.', labelNames: ['controller'], registers: [this.registry] });
  readonly isLeader = new Gauge({ name: 'stratus_leader', help: '1 while this process holds the leader lease.', labelNames: ['lease'], registers: [this.registry] });

  constructor(withProcessMetrics = true) {
    if (withProcessMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /** Serves GET /metrics and GET /healthz; port 0 picks a free one. */
  async serve(port: number, host = '127.0.0.1', healthy: () => boolean = () => true): Promise<{ server: Server; port: number }> {
    const server = createServer(async (req, res) => {
      if (req.url === '/metrics') {
        res.writeHead(200, { 'Content-Type': this.registry.contentType });
        res.end(await this.registry.metrics());
      } else if (req.url === '/healthz' || req.url === '/readyz') {
        const ok = healthy();
        res.writeHead(ok ? 200 : 503, { 'Content-Type': 'text/plain' });
        res.end(ok ? 'ok' : 'not ready');
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(port, host, resolve));
    return { server, port: (server.address() as AddressInfo).port };
  }
}
