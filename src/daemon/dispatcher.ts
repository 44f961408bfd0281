/**
 * The dispatcher: one loop that handles stage results (final events to the
 * sink, child tasks queued, frames nobody needs any more deleted), fails
 * expired leases and moves clips along their life cycle. It goes round
 * again at once while there is work, else when woken or after a pause that
 * starts at `graph.poll_ms` and doubles with each idle round, up to
 * `IDLE_POLL_GROWTH` (protocol.ts) times it. `database is locked` is counted and
 * retried; any other error ends the engine.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import {
  failExpiredLeases,
  fetchUnhandled,
  frameUsers,
  handleResult,
} from "../graph/mod.ts";
import {
  Backoff,
  type Clock,
  type DataLayout,
  type StageOutput,
  systemClock,
  type TaskCategory,
} from "../shared/mod.ts";
import { childrenOf } from "./fanout.ts";
import { planOcrTasks } from "./ocr_plan.ts";
import { IDLE_POLL_GROWTH } from "./protocol.ts";
import type { EventSink } from "./event_sink.ts";

/** Counters the dispatcher keeps (shared with the engine's `stats`). */
export interface DispatcherStats {
  /** Stage results handled. */
  resultsHandled: number;
  /** `database is locked` errors retried. */
  busyErrors: number;
  /** Rounds run. */
  ticks: number;
}

/** Options for {@linkcode Dispatcher}. */
export interface DispatcherOptions {
  /** The data dir's layout (frame refs to paths). */
  data: DataLayout;
  /** Receives final events (from `summary` results). */
  sink: EventSink;
  /** `graph.max_attempts` of new tasks. */
  maxAttempts: number;
  /** First idle pause between rounds (ms); it doubles while idle. */
  pollMs: number;
  /** Waits of the idle pauses (tests pass a manual clock). @default {systemClock} */
  clock?: Clock;
  /** Counters. */
  stats: DispatcherStats;
  /** Wakes the workers of a category. */
  wake: (category: TaskCategory) => void;
  /** Deletes a frame file that no task needs. */
  deleteFrame: (path: string) => Promise<void>;
  /** Moves clips along; true when one moved. */
  advanceClips: (now: number) => boolean;
  /** Called once when the loop stops on an error it cannot retry. */
  onFatal: (err: Error) => void;
  /**
   * Leave out of `ocr` tasks the plates a settled track holds (config
   * `skipping.enabled`; see `ocr_plan.ts`; the plate detector's own rule is
   * applied by its stage when the task runs).
   * @default {false}
   */
  skipSettledPlates?: boolean;
}

/** The dispatcher loop over a graph database. */
export class Dispatcher {
  #db: DatabaseSync;
  #o: DispatcherOptions;
  /** Ends the idle pause under way, if any. */
  #pause: AbortController | null = null;
  /** Woken since the round began: no pause after it. */
  #woken = false;
  #loop: Promise<void> | null = null;
  #stopping = false;
  #lastTickAt = performance.now();

  /**
   * Creates the dispatcher (not running until {@linkcode Dispatcher.start}).
   *
   * @param db The graph database.
   * @param options See {@linkcode DispatcherOptions}.
   */
  constructor(db: DatabaseSync, options: DispatcherOptions) {
    this.#db = db;
    this.#o = options;
  }

  /** `performance.now()` of the last round (the watchdog checks it is alive). */
  get lastTickAt(): number {
    return this.#lastTickAt;
  }

  /** Starts the loop. */
  start(): void {
    this.#loop ??= this.#runLoop();
  }

  /** Runs the next round now instead of after the idle pause. */
  wake(): void {
    this.#woken = true;
    this.#pause?.abort();
  }

  /** Stops the loop after the round under way. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.wake();
    await this.#loop;
  }

  async #runLoop(): Promise<void> {
    const stats = this.#o.stats;
    const clock = this.#o.clock ?? systemClock;
    const pollMs = this.#o.pollMs;
    const idle = new Backoff({
      firstMs: pollMs,
      maxMs: pollMs * IDLE_POLL_GROWTH,
    });
    while (!this.#stopping) {
      this.#lastTickAt = performance.now();
      stats.ticks++;
      this.#woken = false;
      let busy = false;
      try {
        busy = await this.#tick();
      } catch (err) {
        const msg = (err as Error).message;
        if (/database is locked|SQLITE_BUSY/i.test(msg)) {
          stats.busyErrors++;
        } else {
          this.#o.onFatal(new Error(`Dispatcher stopped: ${msg}`));
          return;
        }
      }
      // Woken during the round: what woke it may have come after the
      // round looked.
      if (busy || this.#woken) {
        idle.reset();
        continue;
      }
      this.#pause = new AbortController();
      const slept = await clock.sleep(idle.next(), this.#pause.signal);
      this.#pause = null;
      // Woken: work has come, so the next pauses start short again.
      if (!slept) idle.reset();
    }
  }

  /** One dispatcher round; returns true when it did something. */
  async #tick(): Promise<boolean> {
    const db = this.#db;
    const now = Date.now();
    let did = false;
    const batch = fetchUnhandled(db, { limit: 200 });
    for (const { resultId, task, result } of batch) {
      // A summary's event is reported when its clip finishes (see
      // clip_lifecycle.ts): it may continue a track of the segment before.
      const out = result as StageOutput;
      let children = childrenOf(task, out);
      if (task.category === "plate_detect" && this.#o.skipSettledPlates) {
        children = planOcrTasks(db, children).children;
      }
      const inserted = handleResult(db, {
        resultId,
        children,
        now,
        maxAttempts: this.#o.maxAttempts,
      });
      if (inserted > 0) this.#o.wake(children[0].category);
      this.#o.stats.resultsHandled++;
      for (const ref of JSON.parse(task.dependencies ?? "[]") as string[]) {
        if (frameUsers(db, { ref, excludeTaskId: task.id }) === 0) {
          await this.#o.deleteFrame(this.#o.data.resolve(ref));
        }
      }
      did = true;
    }
    if (failExpiredLeases(db, { now }) > 0) did = true;
    if (this.#o.advanceClips(now)) did = true;
    return did;
  }
}
