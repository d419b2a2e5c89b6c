/**
 * One holder at a time per key (a tenant, say), waiters in arrival order: for a check and the writes it
 * admits to happen as one step in this process, so concurrent requests cannot all pass one check.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  /** Waits for the key, and returns the function that lets the next waiter in. */
  async acquire(key: string): Promise<() => void> {
    const before = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = before.then(() => mine);
    this.tails.set(key, tail);
    await before;
    return () => {
      release();
      // The last holder leaves no entry behind.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
  }
}
