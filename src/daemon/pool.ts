/**
 * The worker pool: a configurable number of stage workers per category. A
 * worker that dies is replaced; one stuck on a task past the timeout is
 * terminated and replaced (its task is retried once its lease expires).
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";
import {
  type Clock,
  deadline,
  type HeapReport,
  type StageInit,
  systemClock,
  type TaskCategory,
} from "../shared/mod.ts";
import type { FromWorker, ToWorker } from "./protocol.ts";
import { workerSlots } from "./worker_layout.ts";

/** Options for {@linkcode WorkerPool}. */
export interface WorkerPoolOptions {
  /** Workers per category. */
  workers: Record<TaskCategory, number>;
  /** Categories one worker serves together (see worker_layout.ts). @default {[]} */
  groups?: readonly (readonly TaskCategory[])[];
  /** Absolute path of pipeline.db. */
  dbPath: string;
  /** URL of the handler module. */
  handlersModule: string;
  /** Handler settings. */
  init: StageInit;
  /** Lease length in ms. */
  leaseMs: number;
  /** Idle poll in ms. */
  pollMs: number;
  /** Retry backoff base in ms. */
  backoffMs: number;
  /** A task running longer than this gets its worker replaced. */
  taskTimeoutMs: number;
  /** Logger. */
  log: Logger;
  /** Called after every finished task (the engine wakes its dispatcher). */
  onFinished?: (
    category: TaskCategory,
    msg: Extract<FromWorker, { type: "finished" }>,
  ) => void;
  /** Called once when a handler cannot be created: fatal for the engine. */
  onFatal?: (message: string) => void;
  /**
   * Time of the task-timeout watch (when a task started, the check every
   * second); tests pass a manual clock instead of waiting.
   * @default {the wall clock}
   */
  clock?: Clock;
}

interface Slot {
  categories: TaskCategory[];
  index: number;
  worker: Worker;
  ready: boolean;
  task: { id: number; since: number } | null;
  stopped: PromiseWithResolvers<void>;
}

const WORKER_URL = new URL("./stage_worker.ts", import.meta.url);

/** A pool of stage workers. */
export class WorkerPool {
  #options: WorkerPoolOptions;
  #poolId: string;
  #slots: Slot[] = [];
  #clock: Clock;
  #watch = new AbortController();
  #closing = false;
  #ready: PromiseWithResolvers<void> = Promise.withResolvers();
  #settled = new Set<Slot>();
  #initError: string | undefined;
  /** Tasks finished per outcome, for status and bench. */
  readonly counters = {
    done: 0,
    retry: 0,
    failed: 0,
    "lease-lost": 0,
    restarts: 0,
  };
  /** Milliseconds spent running tasks, per category (for metrics and bench). */
  readonly busyMs: Partial<Record<TaskCategory, number>> = {};
  /** Each worker's JS heap as of its last finished task, by worker index. */
  readonly heaps: Map<number, HeapReport> = new Map();

  /**
   * Creates the pool (workers start with {@linkcode start}).
   *
   * @param poolId Unique id of this process run; prefixes lease owners.
   * @param options See {@linkcode WorkerPoolOptions}.
   */
  constructor(poolId: string, options: WorkerPoolOptions) {
    this.#poolId = poolId;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * Starts every worker; resolves when all have created their handlers.
   *
   * @returns When ready.
   */
  start(): Promise<void> {
    const layout = workerSlots(this.#options.workers, {
      groups: this.#options.groups ?? [],
    });
    for (const { categories, index } of layout) {
      this.#slots.push(this.#spawn(categories, index));
    }
    this.#watchStuck();
    return this.#ready.promise;
  }

  #spawn(categories: TaskCategory[], index: number): Slot {
    const worker = new Worker(WORKER_URL, { type: "module" });
    const slot: Slot = {
      categories,
      index,
      worker,
      ready: false,
      task: null,
      stopped: Promise.withResolvers(),
    };
    worker.onmessage = (e: MessageEvent<FromWorker>) =>
      this.#onMessage(slot, e.data);
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.#replace(slot, `worker crashed: ${e.message}`);
    };
    const msg: ToWorker = {
      type: "init",
      categories,
      owner: `${this.#poolId}:${categories.join("+")}:${index}`,
      dbPath: this.#options.dbPath,
      handlersModule: this.#options.handlersModule,
      init: this.#options.init,
      leaseMs: this.#options.leaseMs,
      pollMs: this.#options.pollMs,
      backoffMs: this.#options.backoffMs,
      logLevel: this.#options.log.level,
    };
    worker.postMessage(msg);
    return slot;
  }

  #onMessage(slot: Slot, msg: FromWorker): void {
    switch (msg.type) {
      case "ready":
        slot.ready = true;
        this.#settle(slot);
        break;
      case "init-failed":
        this.#initError ??= msg.message;
        this.#options.onFatal?.(msg.message);
        this.#settle(slot);
        break;
      case "claimed":
        slot.task = { id: msg.taskId, since: this.#clock.now() };
        break;
      case "finished":
        slot.task = null;
        this.counters[msg.outcome]++;
        this.busyMs[msg.category] = (this.busyMs[msg.category] ?? 0) + msg.ms;
        this.heaps.set(slot.index, msg.heap);
        if (
          msg.outcome === "failed" ||
          (msg.outcome === "retry" && !msg.postponed)
        ) {
          this.#options.log.warn(
            msg.outcome === "failed"
              ? "task failed for good"
              : "task attempt failed",
            { category: msg.category, task: msg.taskId, error: msg.error },
          );
        }
        this.#options.onFinished?.(msg.category, msg);
        break;
      case "stopped":
        slot.stopped.resolve();
        break;
    }
  }

  /**
   * Start-up ends when every worker has loaded its handler or failed to:
   * a worker terminated while onnxruntime is still creating its session
   * can crash the process (exit 139) instead of the one-line error.
   */
  #settle(slot: Slot): void {
    if (this.#settled.has(slot)) return;
    this.#settled.add(slot);
    if (this.#settled.size !== this.#slots.length) return;
    if (this.#initError === undefined) this.#ready.resolve();
    else this.#ready.reject(new Error(this.#initError));
  }

  #replace(slot: Slot, reason: string): void {
    slot.worker.terminate();
    slot.stopped.resolve();
    if (this.#closing) return;
    this.counters.restarts++;
    this.#options.log.warn("replacing stage worker", {
      category: slot.categories.join("+"),
      worker: slot.index,
      task: slot.task?.id,
      reason,
    });
    const fresh = this.#spawn(slot.categories, slot.index);
    fresh.ready = false;
    const i = this.#slots.indexOf(slot);
    if (i >= 0) this.#slots[i] = fresh;
  }

  /** Checks every second (of the clock) for a task over its timeout. */
  async #watchStuck(): Promise<void> {
    const signal = this.#watch.signal;
    while (!signal.aborted) {
      await this.#clock.sleep(1000, signal);
      if (!signal.aborted) this.#checkStuck();
    }
  }

  #checkStuck(): void {
    const now = this.#clock.now();
    for (const slot of [...this.#slots]) {
      if (slot.task && now - slot.task.since > this.#options.taskTimeoutMs) {
        this.#replace(
          slot,
          `task ${slot.task.id} ran over ${this.#options.taskTimeoutMs} ms`,
        );
      }
    }
  }

  /**
   * Tells idle workers that tasks may be ready.
   *
   * @param category Only this stage's workers. @default {all}
   */
  wake(category?: TaskCategory): void {
    for (const slot of this.#slots) {
      if (
        !slot.task &&
        (category === undefined || slot.categories.includes(category))
      ) {
        slot.worker.postMessage({ type: "wake" } satisfies ToWorker);
      }
    }
  }

  /** Ids of tasks running now. */
  runningTasks(): number[] {
    return this.#slots.flatMap((s) => (s.task ? [s.task.id] : []));
  }

  /**
   * Stops claiming, lets running tasks finish up to `deadlineMs`, then
   * terminates what is left (those tasks' leases are released by the caller).
   *
   * @param options Deadline.
   * @returns Ids of tasks that were still running at the deadline.
   */
  async close(options: { deadlineMs: number }): Promise<number[]> {
    this.#closing = true;
    this.#watch.abort();
    for (const slot of this.#slots) {
      slot.worker.postMessage({ type: "stop" } satisfies ToWorker);
    }
    const all = Promise.all(this.#slots.map((s) => s.stopped.promise));
    const outcome = await deadline(all, options.deadlineMs).then(
      () => "stopped" as const,
      () => "timeout" as const,
    );
    const left = outcome === "timeout" ? this.runningTasks() : [];
    for (const slot of this.#slots) slot.worker.terminate();
    this.#ready.resolve();
    return left;
  }
}
