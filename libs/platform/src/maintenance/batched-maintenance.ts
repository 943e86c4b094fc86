/**
 * Housekeeping that runs in the background of every replica (pruning sent outbox rows, old inbox records, finished
 * sagas): a run every `intervalMs`, never two of one replica at once, each run working in small batches until one
 * comes back short, with a breath between batches so it never competes with business traffic (docs/adr/0004).
 * Stopping ends the run in progress after its current batch.
 */
export class BatchedMaintenance {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    /** One run; it calls `batches` for each kind of work it does. */
    private readonly run: (batches: BatchedMaintenance) => Promise<unknown>,
    private readonly intervalMs: number,
    private readonly onError: (err: Error) => void,
  ) {}

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => {
      // A run still going when the next tick comes is left to finish: two runs of one replica would only compete.
      this.running ??= this.run(this)
        .then(() => undefined)
        .catch((err: Error) => this.onError(err))
        .finally(() => (this.running = undefined));
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** Runs `batch` (which returns how many rows it handled) until a batch is short of `batchSize`; returns the total. */
  async batches(batch: () => Promise<number>, batchSize: number): Promise<number> {
    let total = 0;
    for (;;) {
      const done = await batch();
      total += done;
      if (done < batchSize || this.stopped) return total;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
