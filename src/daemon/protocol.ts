/**
 * The typed messages between the engine (main thread) and stage workers.
 * Both sides import this file; nothing else crosses the boundary, and no
 * state is shared outside SQLite.
 *
 * @module
 */
import type { HeapReport, StageInit, TaskCategory } from "../shared/mod.ts";

/**
 * How many times `graph.poll_ms` the pause between two idle rounds of the
 * dispatcher and of a stage worker grows to (doubling): 1 s by default.
 * Whatever queues work wakes them at once; the rounds of an idle daemon
 * only fail expired leases, release held tracks and pick up tasks put off
 * after a fault, and a second is soon enough for these. An idle `run` with
 * every round at 100 ms used 1.03 CPU-s a minute (main thread 0.51, each
 * worker 0.26), and its V8 heaps filled with the rounds' garbage; with the
 * back-off, 0.25 (2026-12-01, side by side, `/proc/PID/task/TID/stat`).
 */
export const IDLE_POLL_GROWTH = 10;

/** Sent by the engine to a worker. */
export type ToWorker =
  | {
    type: "init";
    /** Stages this worker serves, in the order it tries to claim them. */
    categories: TaskCategory[];
    /** Lease owner id: pool id + worker number. */
    owner: string;
    /** Absolute path of pipeline.db. */
    dbPath: string;
    /** URL of the handler module. */
    handlersModule: string;
    /** Handler settings. */
    init: StageInit;
    /** Lease length in ms. */
    leaseMs: number;
    /** First idle pause in ms; it doubles while idle, up to {@linkcode IDLE_POLL_GROWTH} times this. */
    pollMs: number;
    /** Base retry backoff in ms. */
    backoffMs: number;
    /** Log level name. */
    logLevel: "error" | "warn" | "info" | "debug";
  }
  /** New tasks may be ready: stop idling. */
  | { type: "wake" }
  /** Finish the current task, claim no more, close. */
  | { type: "stop" };

/** Sent by a worker to the engine. */
export type FromWorker =
  /** Handler created, claiming starts. */
  | { type: "ready" }
  /** The handler could not be created (missing model…): one line. */
  | { type: "init-failed"; message: string }
  /** A task was claimed (the watchdog times it). */
  | { type: "claimed"; taskId: number }
  /** A task ended: done, failed attempt, or lease lost. */
  | {
    type: "finished";
    taskId: number;
    /** The task's stage. */
    category: TaskCategory;
    outcome: "done" | "retry" | "failed" | "lease-lost";
    error?: string;
    /** A retry put off by a file-system fault (no attempt used; the worker logs it once). */
    postponed?: boolean;
    ms: number;
    /** The worker's JS heap and its trim's collections (heap_trim.ts). */
    heap: HeapReport;
  }
  /** Closed after a stop. */
  | { type: "stopped" };
