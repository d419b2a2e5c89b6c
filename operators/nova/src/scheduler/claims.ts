/**
 * Claims written to the hypervisors' ledgers in batches, one write per host at a time: while a host's write
 * is in flight, the claims decided meanwhile wait and go in its next write together (a group commit). Each
 * claim counts in the book from the moment it is decided, so deciding never waits for a round trip. A write
 * is a compare-and-swap on the host's resourceVersion (see ledger.ts); when it fails, every claim it carried
 * and every claim decided on top of them fails with it, and their instances decide again.
 */
import type { KubeClient } from '@stratus/runtime';
import type { HypervisorBook } from './book.js';
import { writeLedgerEntries } from './ledger.js';
import type { Resources } from './types.js';

interface Claim {
  key: string;
  resources: Resources | null;
  done(error?: unknown): void;
}

export class ClaimWriter {
  private readonly waiting = new Map<string, Claim[]>();
  private readonly writing = new Set<string>();

  constructor(
    private readonly client: KubeClient,
    private readonly book: HypervisorBook,
    private readonly fieldManager: string,
  ) {}

  /** Books `resources` for the instance on `host` (null gives its room back); settles once the ledger holds it. */
  claim(host: string, key: string, resources: Resources | null): Promise<void> {
    this.book.assume(host, key, resources);
    return new Promise<void>((resolve, reject) => {
      const claims = this.waiting.get(host) ?? [];
      claims.push({ key, resources, done: (error) => (error === undefined ? resolve() : reject(error)) });
      this.waiting.set(host, claims);
      void this.write(host);
    });
  }

  private async write(host: string): Promise<void> {
    if (this.writing.has(host)) return; // the write in flight takes these next
    const batch = this.waiting.get(host);
    if (!batch?.length) return;
    this.waiting.delete(host);
    this.writing.add(host);
    try {
      const stored = this.book.server(host);
      if (!stored) throw new Error(`hypervisor ${host} is gone`);
      this.book.wrote(await writeLedgerEntries(this.client, stored, new Map(batch.map((c) => [c.key, c.resources])), this.fieldManager));
      for (const c of batch) this.book.settle(host, c.key);
      for (const c of batch) c.done();
    } catch (error) {
      // Claims decided on top of these assumed them: they fail too, and decide again on the server's state.
      const failed = [...batch, ...(this.waiting.get(host) ?? [])];
      this.waiting.delete(host);
      this.book.forget(host);
      for (const c of failed) this.book.settle(host, c.key);
      for (const c of failed) c.done(error);
    } finally {
      this.writing.delete(host);
    }
    void this.write(host);
  }
}
