/**
 * Group commit: the calls a process makes in one turn of its event loop are run together, one
 * batch per group, once the turn's callbacks are done (`process.nextTick`). A worker steps a
 * hundred hosts on one Redis connection, and one answer wakes many of them at once, each making
 * its next call: made one by one, the fixed cost of a script call (in the client and in Redis) is
 * most of each. Every caller still waits for its own result, so nothing it does next starts
 * before its call has landed.
 *
 * `run` answers a batch with one result per item, in order, or an Error for an item alone; a
 * rejected run rejects every item of its batch.
 */
export class TurnBatch<Item, Result> {
  private pending = new Map<string, { item: Item; resolve: (r: Result) => void; reject: (e: unknown) => void }[]>();
  private scheduled = false;

  constructor(
    private readonly run: (group: string, items: Item[]) => Promise<(Result | Error)[]>,
    /** Items per run at most, so one script run never holds Redis for long. */
    private readonly maxItems = 64,
  ) {}

  /** `group`: items that may share a run (the same cluster slot, say). */
  submit(group: string, item: Item): Promise<Result> {
    return new Promise((resolve, reject) => {
      const queue = this.pending.get(group);
      if (queue) queue.push({ item, resolve, reject });
      else this.pending.set(group, [{ item, resolve, reject }]);
      if (!this.scheduled) {
        this.scheduled = true;
        process.nextTick(() => this.flush());
      }
    });
  }

  private flush(): void {
    const pending = this.pending;
    this.pending = new Map();
    this.scheduled = false;
    for (const [group, queue] of pending) {
      for (let i = 0; i < queue.length; i += this.maxItems) {
        const batch = queue.slice(i, i + this.maxItems);
        this.run(
          group,
          batch.map((q) => q.item),
        ).then(
          (results) =>
            batch.forEach((q, j) => {
              const r = results[j];
              if (r instanceof Error) q.reject(r);
              else q.resolve(r);
            }),
          (err: unknown) => batch.forEach((q) => q.reject(err)),
        );
      }
    }
  }
}
