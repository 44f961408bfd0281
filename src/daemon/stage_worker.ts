/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/**
 * A stage worker: a module Web Worker that claims tasks of its categories
 * (one, or a group: see worker_layout.ts) from `pipeline.db`, runs the
 * stage's handler and writes the result back, fenced on its lease. It talks to the engine only through `protocol.ts`.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import {
  claimTask,
  completeTask,
  failTask,
  getVideo,
  LeaseLostError,
  openGraphDb,
  postponeTask,
  type TaskRow,
} from "../graph/mod.ts";
import { isMissingPath, isTransientFsError } from "./fs_fault.ts";
import { Logger } from "../log/mod.ts";
import {
  Backoff,
  type CreateStageHandler,
  type HeapTrimmer,
  type StageHandler,
  startHeapTrim,
  type TaskCategory,
} from "../shared/mod.ts";
import {
  type FromWorker,
  IDLE_POLL_GROWTH,
  type ToWorker,
} from "./protocol.ts";
import {
  createStageContext,
  frameFileReader,
  toStageTask,
} from "./stage_context.ts";

type InitMessage = Extract<ToWorker, { type: "init" }>;

let stopping = false;
let wake: (() => void) | null = null;

function post(msg: FromWorker): void {
  self.postMessage(msg);
}

function idle(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      wake = null;
      resolve();
    }, ms);
    wake = () => {
      clearTimeout(timer);
      wake = null;
      resolve();
    };
  });
}

/** A file-system fault was logged and no task has completed since. */
let faultNoted = false;

/**
 * Whether a task's failure is a passing fault of the data dir (read-only,
 * I/O error), not of the task: it is put off without using an attempt. A
 * missing frame counts only while its clip is still being decoded (the
 * decoder writes it again after our frames folder was removed).
 */
function passingFault(
  err: unknown,
  msg: InitMessage,
  db: DatabaseSync,
  videoId: string | null,
): boolean {
  if (!isTransientFsError(err, { dataDir: msg.init.dataDir })) return false;
  if (!isMissingPath(err)) return true;
  const status = videoId === null ? null : getVideo(db, videoId)?.status;
  return status === "queued" || status === "decoding";
}

function errorText(err: unknown): string {
  const e = err as Error;
  return (e?.message ?? String(err)).split("\n")[0].slice(0, 500);
}

/** The first task of `categories` (tried in order) that can be claimed. */
function claimFirst(
  db: DatabaseSync,
  msg: InitMessage,
): { row: TaskRow; category: TaskCategory } | null {
  for (const category of msg.categories) {
    const row = claimTask(db, {
      category,
      owner: msg.owner,
      now: Date.now(),
      leaseMs: msg.leaseMs,
    });
    if (row) return { row, category };
  }
  return null;
}

type Finished = Omit<
  Extract<FromWorker, { type: "finished" }>,
  "type" | "heap"
>;

async function loop(
  msg: InitMessage,
  db: DatabaseSync,
  handlers: Map<TaskCategory, StageHandler>,
  options: { log: Logger; trimmer: HeapTrimmer },
): Promise<void> {
  const { log, trimmer } = options;
  // Each finished task carries this isolate's heap to the daemon's metrics.
  const finished = (m: Finished) =>
    post({ type: "finished", ...m, heap: trimmer.report() });
  const readFrame = frameFileReader(msg.init.dataDir);
  // The pool wakes an idle worker when it queues work: the pause only
  // catches tasks whose time comes (put off after a fault).
  const pause = new Backoff({
    firstMs: msg.pollMs,
    maxMs: msg.pollMs * IDLE_POLL_GROWTH,
  });
  while (!stopping) {
    const claimed = claimFirst(db, msg);
    if (!claimed) {
      await idle(pause.next());
      continue;
    }
    pause.reset();
    const { row, category } = claimed;
    const handler = handlers.get(category)!;
    post({ type: "claimed", taskId: row.id });
    const started = performance.now();
    const task = toStageTask(row);
    try {
      const ctx = createStageContext(db, {
        dataDir: msg.init.dataDir,
        task,
        log,
        readFrame,
      });
      const output = await handler.run(task, ctx);
      completeTask(db, {
        taskId: row.id,
        owner: msg.owner,
        result: output ?? {},
        now: Date.now(),
      });
      if (faultNoted) {
        faultNoted = false;
        log.info("tasks run again after the file-system fault", {
          task: row.id,
        });
      }
      finished({
        taskId: row.id,
        category,
        outcome: "done",
        ms: performance.now() - started,
      });
    } catch (err) {
      if (err instanceof LeaseLostError) {
        log.warn("task lease lost; result dropped", { task: row.id });
        finished({
          taskId: row.id,
          category,
          outcome: "lease-lost",
          ms: performance.now() - started,
        });
        continue;
      }
      const error = errorText(err);
      const delay = passingFault(err, msg, db, row.video_id)
        ? postponeTask(db, {
          taskId: row.id,
          owner: msg.owner,
          error,
          now: Date.now(),
          backoffMs: msg.backoffMs,
        })
        : null;
      if (delay !== null) {
        if (!faultNoted) {
          faultNoted = true;
          log.warn(
            "task put off by a file-system fault; its attempts are kept",
            { task: row.id, retry_ms: delay, error },
          );
        }
        finished({
          taskId: row.id,
          category,
          outcome: "retry",
          error,
          postponed: true,
          ms: performance.now() - started,
        });
        continue;
      }
      const status = failTask(db, {
        taskId: row.id,
        owner: msg.owner,
        error,
        now: Date.now(),
        backoffMs: msg.backoffMs,
      });
      finished({
        taskId: row.id,
        category,
        outcome: status === "failed"
          ? "failed"
          : status === "queued"
          ? "retry"
          : "lease-lost",
        error,
        ms: performance.now() - started,
      });
    }
  }
}

async function start(msg: InitMessage): Promise<void> {
  const log = new Logger({ level: msg.logLevel }).child({
    worker: msg.owner.split(":").slice(-2).join(":"),
  });
  let db: DatabaseSync;
  const handlers = new Map<TaskCategory, StageHandler>();
  try {
    db = openGraphDb(msg.dbPath, { migrate: false });
    const mod = await import(msg.handlersModule) as {
      createStageHandler?: CreateStageHandler;
    };
    if (typeof mod.createStageHandler !== "function") {
      throw new Error(
        `Cannot load stage handlers: ${msg.handlersModule} does not export createStageHandler`,
      );
    }
    for (const category of msg.categories) {
      handlers.set(
        category,
        await mod.createStageHandler(category, { ...msg.init, log }),
      );
    }
  } catch (err) {
    for (const handler of handlers.values()) await handler.close?.();
    post({ type: "init-failed", message: errorText(err) });
    return;
  }
  post({ type: "ready" });
  // This isolate's garbage, collected at a small slack (see heap_trim.ts).
  const trim = startHeapTrim();
  await loop(msg, db, handlers, { log, trimmer: trim.trimmer });
  trim.stop();
  for (const handler of handlers.values()) await handler.close?.();
  db.close();
  post({ type: "stopped" });
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const msg = event.data;
  if (msg.type === "init") {
    start(msg);
  } else if (msg.type === "wake") {
    wake?.();
  } else if (msg.type === "stop") {
    stopping = true;
    wake?.();
  }
};
