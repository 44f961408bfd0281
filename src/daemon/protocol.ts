/**
 * The typed messages between the engine (main thread) and stage workers.
 * Both sides import this file; nothing else crosses the boundary, and no
 * state is shared outside SQLite.
 *
 * @module
 */
import type { StageInit, TaskCategory } from "../shared/mod.ts";

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
    /** Idle poll interval in ms. */
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
  }
  /** Closed after a stop. */
  | { type: "stopped" };
