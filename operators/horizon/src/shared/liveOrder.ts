/**
 * The order of a live page's reads against its changes. Every change and every read gets a place on one clock;
 * a read's answer is shown only when no later change has come for its object, because that change's own read
 * (or, for a deletion, the deletion itself) says what is true now. Without it, a read sent just before a
 * deletion and answered just after it brings the deleted object back for good.
 *
 * Pure and free of the DOM: the page bundles it, the unit tests run it in Node.
 */
export class LiveOrder {
  private clock = 0;
  private readonly lastChange = new Map<string, { at: number; deleted: boolean }>();

  /** Records a change to an object; returns its place, which a read made for this change carries. */
  changed(id: string, deleted: boolean): number {
    const at = ++this.clock;
    this.lastChange.set(id, { at, deleted });
    return at;
  }

  /** The place of a read that starts now (a whole list's, or one object's not asked for by a change). */
  now(): number {
    return this.clock;
  }

  /** Whether a read of this object that started at `since` still tells the truth: no change came after it. */
  current(id: string, since: number): boolean {
    return (this.lastChange.get(id)?.at ?? 0) <= since;
  }

  /**
   * A whole list read at `since`, set against what is shown now: an object deleted after the read started is
   * left out, one changed after it keeps the newer version shown (or is left for its own read to bring).
   */
  mergeList<T extends { id: string }>(answer: T[], since: number, shown: T[] | undefined): T[] {
    const out: T[] = [];
    for (const item of answer) {
      if (this.current(item.id, since)) {
        out.push(item);
        continue;
      }
      if (this.lastChange.get(item.id)!.deleted) continue;
      const newer = shown?.find((x) => x.id === item.id);
      if (newer) out.push(newer);
    }
    for (const item of shown ?? []) {
      const last = this.lastChange.get(item.id);
      if (last && last.at > since && !last.deleted && !out.some((x) => x.id === item.id)) out.unshift(item);
    }
    return out;
  }
}
