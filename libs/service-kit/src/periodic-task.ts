import { Inject, Optional, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import { MetricsService } from '@maskline/observability';

/** How soon a task refused its turn because another task's run held the store asks again. */
export const STORE_BUSY_RETRY_MS = 30_000;
/** A timed run at least this long is logged with its length. */
const LONG_RUN_MS = 1000;

/**
 * Work done every `intervalMs` on every replica (reapers, sweeps): one run at a time (a slow run is
 * never overlapped), and at shutdown the run in progress is waited for. A failed run is logged
 * with its code and the work is tried again at the next interval: it must be idempotent. With
 * `turns` (SweepTurns), a timed run happens only on the replica that takes the interval's turn.
 */
export abstract class PeriodicTask implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  /** A turn asked for again soon, as the store was busy with another task's run. */
  private retry?: NodeJS.Timeout;
  /** Ticks under way (asking for a turn, running, giving it back). */
  private readonly ticks = new Set<Promise<void>>();
  private stopped = false;
  /** The service's metrics (Nest sets it; a task made by hand has none). */
  @Optional() @Inject(MetricsService) private readonly metrics?: MetricsService;

  protected constructor(
    /** Named in the log. */
    private readonly taskName: string,
    private readonly intervalMs: number,
    protected readonly logger: Logger,
    /**
     * Whether this replica runs this interval's timed run (every replica does, without it), and,
     * when it can be told, how long each timed run took (SweepTurns paces the runs by it) or that a
     * turn went unused.
     */
    private readonly turns?: (() => Promise<boolean>) & {
      finished?(ms: number): Promise<void>;
      release?(): Promise<void>;
      /** The last turn was refused because another task's run held the store. */
      storeBusy?(): boolean;
    },
  ) {}

  /** One run; errors are the base's to log. */
  protected abstract runOnce(): Promise<void>;

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  /** At shutdown the run in progress is waited for, and so is what its tick does after it (give its turn back). */
  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.retry);
    await this.running;
    await Promise.all([...this.ticks]);
  }

  private tick(): void {
    const tick = this.onTick().finally(() => this.ticks.delete(tick));
    this.ticks.add(tick);
  }

  private async onTick(): Promise<void> {
    if (this.turns && !(await this.turns())) {
      // Another task's run held the store: asked again soon, not a whole interval later (the window
      // is still this task's to take).
      if (this.turns.storeBusy?.() && !this.stopped && !this.retry && STORE_BUSY_RETRY_MS < this.intervalMs) {
        this.retry = setTimeout(() => {
          this.retry = undefined;
          this.tick();
        }, STORE_BUSY_RETRY_MS);
        this.retry.unref();
      }
      return;
    }
    // A run still under way covers this turn too (what it holds, its own tick gives back: only the
    // tick that started a run tells how long it took). A turn taken while shutting down is not used
    // (the run would start after shutdown waited): it is given back unused.
    if (this.running) return this.running;
    if (this.stopped) return this.turns?.release?.();
    const started = Date.now();
    await this.runNow();
    const ms = Date.now() - started;
    // How long a timed run holds the store is an operator's question (a sweep over a large history
    // on FerretDB takes minutes): a long one says so.
    if (ms >= LONG_RUN_MS) {
      this.logger.info(
        { task: this.taskName, ms, startedAt: new Date(started).toISOString() },
        `${this.taskName} run`,
      );
    }
    await this.turns?.finished?.(ms);
  }

  /** Runs now unless a run is under way (then waits for that one). */
  runNow(): Promise<void> {
    this.running ??= this.runOnce()
      .catch((err: unknown) => {
        // Counted as well as logged: a sweep that fails run after run (retention stopped) must page someone.
        this.metrics
          ?.counter(
            'maskline_periodic_task_failures_total',
            'Runs of background tasks (sweeps, reapers) that failed',
            ['task'],
          )
          .inc({ task: this.taskName });
        this.logger.warn(
          { err, code: err instanceof CodedError ? err.code : ErrorCodes.INTERNAL, task: this.taskName },
          `${this.taskName} failed; it runs again in ${this.intervalMs} ms`,
        );
      })
      .finally(() => (this.running = undefined));
    return this.running;
  }
}
