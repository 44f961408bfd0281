/**
 * Exactly-once delivery of the outbox to the fleet Postgres. Each batch of
 * unsent rows is one multi-row `INSERT … ON CONFLICT (event_key) DO NOTHING`
 * in a transaction; only after COMMIT are the rows marked sent locally. A
 * crash between the two re-sends the batch, and the unique `event_key` turns
 * the re-send into a no-op, so every event lands once. `SyncLoop` runs passes
 * forever with jittered exponential backoff.
 *
 * @module
 */
import { log as defaultLog, type Logger } from "../log/mod.ts";
import {
  deadline,
  DeadlineError,
  doublingDelay,
  sleep as sharedSleep,
} from "../shared/mod.ts";
import type { AlertRow, Outbox, OutboxEvent, UnpushedAlert } from "./outbox.ts";
import { describePgError, type PgSql, pgTarget } from "./pg_client.ts";
import { rejectedRetryDelayMs } from "./rejected_retry.ts";
import {
  classifySyncError,
  OutboxWriteError,
  type SyncErrorKind,
} from "./sync_error.ts";

/** Columns written to `vehicles`, in order. */
const VEHICLE_COLUMNS = [
  "event_key",
  "device_id",
  "video_id",
  "track_id",
  "frame_idx",
  "ts",
  "final_plate",
  "plate_confidence",
  "car_bbox",
  "plate_bbox",
  "alert_id",
  "lat",
  "lon",
  "speed_kmh",
  "heading_deg",
  "time_source",
] as const;

/**
 * Most rows per batch: one bind parameter per column and row must stay
 * under the protocol's 65535 (16 columns: 4095 rows).
 */
export const MAX_BATCH_SIZE = Math.floor(65534 / VEHICLE_COLUMNS.length);

/** Hooks for tests (crash points). */
export interface SyncHooks {
  /** Called after each COMMIT, before the rows are marked sent locally. */
  afterCommit?: (ids: number[]) => void | Promise<void>;
}

/** Options for {@linkcode syncOnce}. */
export interface SyncOnceOptions {
  /** This vehicle's id, stored with every row. */
  deviceId: string;
  /** Rows per INSERT. @default {500} */
  batchSize?: number;
  /** Where per-pass lines go. @default {the module `log`} */
  log?: Logger;
  /** Stops the pass between batches. */
  signal?: AbortSignal;
  /** Test hooks. */
  hooks?: SyncHooks;
  /** Also refresh the local plates of interest after the events. @default {true} */
  pullAlerts?: boolean;
  /** Clock for `sent_at`. @default {() => new Date()} */
  now?: () => Date;
  /** Setting named in error messages. @default {"pg.url"} */
  setting?: string;
  /**
   * Milliseconds to wait for each statement's answer before giving up on the
   * pass (a dead mobile link can leave a socket silent for minutes). The
   * abandoned statement may still commit; the next pass's ON CONFLICT makes
   * that harmless. @default {60000}
   */
  queryTimeoutMs?: number;
}

/** What one pass did. */
export interface SyncResult {
  /** Rows inserted into Postgres by this pass. */
  sent: number;
  /** Rows Postgres already had (a re-send after a crash). */
  duplicates: number;
  /** Rows Postgres refused in this pass, now set aside (retried later). */
  rejected: number;
  /** Alert ids pushed onto already-sent rows. */
  alertsPushed: number;
  /** Plates of interest now held locally, or null when not pulled. */
  alerts: number | null;
}

interface VehicleRow {
  event_key: string;
  device_id: string;
  video_id: string;
  track_id: number | null;
  frame_idx: number;
  ts: string;
  final_plate: string;
  plate_confidence: number;
  car_bbox: unknown;
  plate_bbox: unknown;
  alert_id: number | null;
  lat: number | null;
  lon: number | null;
  speed_kmh: number | null;
  heading_deg: number | null;
  time_source: string | null;
}

/**
 * Returns true for a server error about the row itself (see
 * {@linkcode classifySyncError}): re-sending the same row will likely fail
 * the same way, so it is set aside and the other rows go on.
 *
 * @param err What the driver threw.
 * @returns Whether the row itself is at fault.
 */
export function isDataError(err: unknown): boolean {
  return classifySyncError(err) === "row";
}

/** File name of the outbox, for messages. */
function outboxPath(outbox: Outbox): string {
  try {
    return outbox.db.location() ?? "outbox.db";
  } catch {
    return "outbox.db";
  }
}

/**
 * Runs a write to the outbox; a failure becomes an
 * {@linkcode OutboxWriteError} naming the file (a local fault, never
 * reported as a Postgres one).
 */
function local<T>(outbox: Outbox, action: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new OutboxWriteError(outboxPath(outbox), action, err);
  }
}

function toRow(sql: PgSql, event: OutboxEvent, deviceId: string): VehicleRow {
  return {
    event_key: event.eventKey,
    device_id: deviceId,
    video_id: event.videoId,
    track_id: event.trackId ?? null,
    frame_idx: event.frameIdx,
    ts: event.ts,
    final_plate: event.finalPlate,
    plate_confidence: event.plateConfidence,
    car_bbox: sql.json(event.carBbox),
    plate_bbox: sql.json(event.plateBbox),
    alert_id: event.alertId,
    lat: event.lat ?? null,
    lon: event.lon ?? null,
    speed_kmh: event.speedKmh ?? null,
    heading_deg: event.headingDeg ?? null,
    time_source: event.timeSource ?? null,
  };
}

/**
 * Waits for `query` at most `ms`; then rejects with code "QUERY_TIMEOUT".
 * The query itself is left to finish or fail on its own.
 */
async function withTimeout<T>(
  query: PromiseLike<T>,
  ms: number,
  what: string,
): Promise<T> {
  try {
    return await deadline(query, ms, { what: "query" });
  } catch (err) {
    if (!(err instanceof DeadlineError)) throw err;
    throw Object.assign(
      new Error(`query timed out after ${ms / 1000} s (${what})`),
      { code: "QUERY_TIMEOUT" },
    );
  }
}

/**
 * Inserts rows with ONE statement, which Postgres runs as one transaction
 * (autocommit): all rows commit or none do. Not `sql.begin()`: in
 * postgres.js 3.4.9 a connection that dies inside `begin()`/`reserve()` makes
 * its ROLLBACK write to a null socket from a timer, an uncatchable crash
 * (porsager/postgres#1208, #1154); a pooled single statement just rejects.
 * Returns how many rows were new.
 */
async function insertRows(
  sql: PgSql,
  rows: VehicleRow[],
  timeoutMs: number,
): Promise<number> {
  const result = await withTimeout(
    sql`
      INSERT INTO vehicles ${sql(rows, VEHICLE_COLUMNS)}
      ON CONFLICT (event_key) DO NOTHING`,
    timeoutMs,
    `inserting ${rows.length} rows`,
  );
  return result.count;
}

function serverMessage(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown; detail?: unknown };
  const parts = [
    typeof e.code === "string" ? e.code : "",
    typeof e.message === "string" ? e.message : String(err),
  ].filter((p) => p !== "");
  if (typeof e.detail === "string") parts.push(`(${e.detail})`);
  return parts.join(" ");
}

/**
 * Pushes alert ids matched locally onto rows already in Postgres (an alert
 * can match after the row was sent, or the row was sent by a pass that
 * crashed before its alert was recorded).
 *
 * @param outbox The outbox.
 * @param sql Client of the fleet database.
 * @returns Rows updated.
 */
export async function pushAlertIds(
  outbox: Outbox,
  sql: PgSql,
): Promise<number> {
  let pushed = 0;
  while (true) {
    const rows: UnpushedAlert[] = outbox.unpushedAlerts(500);
    if (rows.length === 0) return pushed;
    const values = rows.map((r) => [r.eventKey, String(r.alertId)]);
    await sql`
      UPDATE vehicles SET alert_id = v.alert_id::integer
      FROM (VALUES ${sql(values)}) AS v (event_key, alert_id)
      WHERE vehicles.event_key = v.event_key`;
    outbox.markAlertsPushed(rows);
    pushed += rows.length;
  }
}

/**
 * Copies the fleet's active plates of interest into the outbox's `alerts`.
 *
 * @param outbox The outbox.
 * @param sql Client of the fleet database.
 * @returns Number of alerts now held locally.
 */
export async function pullAlerts(outbox: Outbox, sql: PgSql): Promise<number> {
  const rows = await sql<
    { id: number; plate: string; match: string; note: string | null }[]
  >`SELECT id, plate, match, note FROM alerts WHERE active ORDER BY id`;
  const alerts: AlertRow[] = rows.map((r) => ({
    id: r.id,
    plate: r.plate,
    match: r.match === "fuzzy1" ? "fuzzy1" : "exact",
    note: r.note,
  }));
  outbox.replaceAlerts(alerts);
  return alerts.length;
}

/**
 * One sync pass: first puts back in the queue the set-aside rows whose
 * retry time has come (see rejected_retry.ts: 10 min doubling to 24 h, 10
 * refusals), then sends every pending outbox row, oldest first, in batches.
 * A batch the server refuses for a reason about a row (see
 * {@linkcode classifySyncError}: SQLSTATE 22, 23, 44, P0001 from a trigger,
 * 42501 from row-level security, ...) is re-sent row by row and only the
 * rows that fail are set aside (`markRejected`, with their next retry
 * time). A connection or server-state error (refused, lost, shutting down,
 * missing table) ends the pass with the driver's error; the rows stay
 * pending and the next pass resends them. A failed write to the outbox ends
 * the pass with an {@linkcode OutboxWriteError} naming the file.
 *
 * @example One pass
 * ```ts ignore
 * const { sent, duplicates, rejected } = await syncOnce(outbox, sql, { deviceId: "van-7" });
 * ```
 * @param outbox The outbox.
 * @param sql Client of the fleet database (migrated).
 * @param options Device id, batch size, logger, signal, hooks.
 * @returns Counts of this pass.
 * @throws {Error} The driver's error when the pass cannot go on.
 * @throws {OutboxWriteError} When the outbox cannot be written.
 */
export async function syncOnce(
  outbox: Outbox,
  sql: PgSql,
  options: SyncOnceOptions,
): Promise<SyncResult> {
  const {
    deviceId,
    batchSize = 500,
    log = defaultLog,
    signal,
    hooks = {},
    pullAlerts: doPullAlerts = true,
    now = () => new Date(),
    setting = "pg.url",
    queryTimeoutMs = 60_000,
  } = options;
  if (
    !Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE
  ) {
    throw new RangeError(
      `Cannot sync as 'batchSize' must be an integer in 1..${MAX_BATCH_SIZE}: current value is ${batchSize}`,
    );
  }
  if (!(queryTimeoutMs > 0)) {
    throw new RangeError(
      `Cannot sync as 'queryTimeoutMs' must be > 0: current value is ${queryTimeoutMs}`,
    );
  }
  if (typeof deviceId !== "string" || deviceId.length === 0) {
    throw new TypeError(
      `Cannot sync as 'deviceId' must be a non-empty string: current value is ${
        JSON.stringify(deviceId)
      }`,
    );
  }
  signal?.throwIfAborted();
  const result: SyncResult = {
    sent: 0,
    duplicates: 0,
    rejected: 0,
    alertsPushed: 0,
    alerts: null,
  };
  const where = pgTarget(sql);
  const describe = (err: unknown) =>
    describePgError(err, { setting, ...(where ? { where } : {}) });
  const requeued = local(
    outbox,
    "re-queue rejected rows",
    () => outbox.requeueDueRejected(now().toISOString()),
  );
  if (requeued > 0) {
    log.info("offering rows postgres refused before again", {
      rows: requeued,
    });
  }
  const context: RowContext = {
    result,
    hooks,
    now,
    log,
    describe,
    queryTimeoutMs,
  };
  let afterId = 0;
  while (!signal?.aborted) {
    const batch = local(
      outbox,
      "read the next batch",
      () => outbox.nextBatch(batchSize, afterId),
    );
    if (batch.length === 0) break;
    afterId = batch[batch.length - 1]!.id;
    const ids = batch.map((e) => e.id);
    const rows = batch.map((e) => toRow(sql, e, deviceId));
    let inserted: number;
    try {
      inserted = await insertRows(sql, rows, queryTimeoutMs);
    } catch (err) {
      const kind = classifySyncError(err);
      if (kind !== "row") {
        recordAttempt(outbox, ids, describe(err), log);
        throw err;
      }
      log.warn("postgres refused a batch; retrying it row by row", {
        rows: batch.length,
        error: serverMessage(err),
      });
      await sendRowByRow(outbox, sql, { batch, rows }, context);
      continue;
    }
    await hooks.afterCommit?.(ids);
    local(
      outbox,
      `mark ${ids.length} rows sent`,
      () => outbox.markSent(ids, now().toISOString()),
    );
    result.sent += inserted;
    result.duplicates += batch.length - inserted;
  }
  if (!signal?.aborted) {
    result.alertsPushed = await withTimeout(
      pushAlertIds(outbox, sql),
      queryTimeoutMs,
      "pushing alert ids",
    );
    if (doPullAlerts) {
      result.alerts = await withTimeout(
        pullAlerts(outbox, sql),
        queryTimeoutMs,
        "pulling alerts",
      );
    }
  }
  log.debug("sync pass done", {
    sent: result.sent,
    duplicates: result.duplicates,
    rejected: result.rejected,
  });
  return result;
}

/**
 * Counts a failed attempt on rows that stay pending. Bookkeeping only: when
 * the outbox cannot take the write (disk full), the original error must
 * still reach the caller, so a failure here is logged, not thrown.
 */
function recordAttempt(
  outbox: Outbox,
  ids: readonly number[],
  message: string,
  log: Logger,
): void {
  try {
    outbox.markFailed(ids, message);
  } catch (err) {
    log.warn(
      new OutboxWriteError(outboxPath(outbox), "record a failed attempt", err)
        .message,
    );
  }
}

interface RowContext {
  result: SyncResult;
  hooks: SyncHooks;
  now: () => Date;
  log: Logger;
  describe: (err: unknown) => string;
  queryTimeoutMs: number;
}

async function sendRowByRow(
  outbox: Outbox,
  sql: PgSql,
  input: { batch: OutboxEvent[]; rows: VehicleRow[] },
  context: RowContext,
): Promise<void> {
  const { batch, rows } = input;
  for (let i = 0; i < batch.length; i++) {
    const event = batch[i]!;
    let inserted: number;
    try {
      inserted = await insertRows(sql, [rows[i]!], context.queryTimeoutMs);
    } catch (err) {
      const kind: SyncErrorKind = classifySyncError(err);
      if (kind !== "row") {
        recordAttempt(outbox, [event.id], context.describe(err), context.log);
        throw err;
      }
      const message = serverMessage(err);
      const at = context.now();
      const refusals = event.rejectCount + 1;
      const delay = rejectedRetryDelayMs(refusals);
      const nextRetryAt = delay === null
        ? null
        : new Date(at.getTime() + delay).toISOString();
      local(
        outbox,
        "set a refused row aside",
        () => outbox.markRejected(event.id, message, nextRetryAt),
      );
      context.result.rejected += 1;
      context.log.error("postgres rejected an event; set aside", {
        event_key: event.eventKey,
        error: message,
        refusals,
        retry_at: nextRetryAt ?? "after sync --once --retry-rejected",
      });
      continue;
    }
    await context.hooks.afterCommit?.([event.id]);
    local(
      outbox,
      "mark a row sent",
      () => outbox.markSent([event.id], context.now().toISOString()),
    );
    context.result.sent += inserted;
    context.result.duplicates += 1 - inserted;
  }
}

/**
 * Delay before retry number `failures` (1-based): exponential backoff with
 * full jitter, never below `minDelayMs` (no busy loop), never above
 * `maxDelayMs`: `min + random() * (min(max, min * 2^failures) - min)`.
 *
 * @example Third failure, random() = 0.5
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(backoffDelay(3, { minDelayMs: 100, maxDelayMs: 1000, random: () => 0.5 }), 450);
 * ```
 * @param failures Consecutive failed passes, >= 1.
 * @param options Bounds and random source.
 * @returns Milliseconds to wait.
 */
export function backoffDelay(
  failures: number,
  options: { minDelayMs: number; maxDelayMs: number; random?: () => number },
): number {
  const { minDelayMs, maxDelayMs, random = Math.random } = options;
  const cap = doublingDelay(failures + 1, {
    firstMs: minDelayMs,
    maxMs: maxDelayMs,
  });
  return minDelayMs + random() * Math.max(0, cap - minDelayMs);
}

/** Sleeps `ms`, resolving early when `signal` aborts. */
export type SleepFn = (ms: number, signal: AbortSignal) => Promise<void>;

/** The default {@linkcode SleepFn}: `sleep` of shared/async.ts. */
export async function abortableSleep(
  ms: number,
  signal: AbortSignal,
): Promise<void> {
  await sharedSleep(ms, { signal });
}

/** Outcome of one pass of {@linkcode SyncLoop}, for status and tests. */
export type SyncPassOutcome =
  | { ok: true; result: SyncResult; at: string }
  | { ok: false; error: string; failures: number; delayMs: number; at: string };

/** Options for {@linkcode SyncLoop}. */
export interface SyncLoopOptions {
  /** This vehicle's id, stored with every row. */
  deviceId: string;
  /** Rows per INSERT. @default {500} */
  batchSize?: number;
  /** Milliseconds between passes while healthy (a `kick()` cuts it short). @default {30000} */
  intervalMs?: number;
  /** Smallest delay after a failed pass. @default {1000} */
  minDelayMs?: number;
  /** Largest delay after failed passes. @default {300000} */
  maxDelayMs?: number;
  /** Logger. @default {the module `log`} */
  log?: Logger;
  /** Stops the loop when aborted. */
  signal?: AbortSignal;
  /** Sleep (tests inject one). @default {abortableSleep} */
  sleep?: SleepFn;
  /** Random source in [0, 1) for jitter. @default {Math.random} */
  random?: () => number;
  /** Clock. @default {() => new Date()} */
  now?: () => Date;
  /** Called after every pass. */
  onPass?: (outcome: SyncPassOutcome) => void;
  /** Setting named in error messages. @default {"pg.url"} */
  setting?: string;
  /** Test hooks passed to each pass. */
  hooks?: SyncHooks;
  /** Per-statement answer timeout of each pass (see {@linkcode SyncOnceOptions}). @default {60000} */
  queryTimeoutMs?: number;
  /**
   * Runs before the first pass and again until it succeeds (the daemon
   * checks the fleet schema version there, see `checkFleet`); a throw counts as a
   * failed pass. @default {nothing}
   */
  prepare?: () => Promise<void>;
  /**
   * Runs after each good pass (the daemon sends the events' pictures
   * there, see evidence_sync.ts); a throw counts as a failed pass.
   * @default {nothing}
   */
  afterPass?: () => Promise<unknown>;
}

/**
 * Runs {@linkcode syncOnce} until stopped: after a good pass it waits
 * `intervalMs` (or a `kick()`), after a failed one a jittered exponential
 * backoff (also cut short by `kick()`, e.g. when the network comes back).
 * Errors are logged as one line (a local outbox fault names the file and is
 * never called a Postgres error) and recorded in the outbox when it can
 * take the write, never thrown: the loop outlives a full or read-only disk.
 */
export class SyncLoop {
  #outbox: Outbox;
  #sql: PgSql;
  #options: Required<
    Omit<
      SyncLoopOptions,
      "signal" | "onPass" | "hooks" | "prepare" | "afterPass"
    >
  >;
  #prepare: (() => Promise<void>) | undefined;
  #afterPass: (() => Promise<unknown>) | undefined;
  #onPass: ((outcome: SyncPassOutcome) => void) | undefined;
  #hooks: SyncHooks;
  #external: AbortSignal | undefined;
  #stop = new AbortController();
  #wake = new AbortController();
  #kicked = false;
  #failures = 0;
  #running: Promise<void> | null = null;
  #where: string | null;

  /**
   * @param outbox The outbox.
   * @param sql Client of the fleet database (migrated).
   * @param options Device id, timing, injected sleep/random/clock.
   */
  constructor(outbox: Outbox, sql: PgSql, options: SyncLoopOptions) {
    const {
      deviceId,
      batchSize = 500,
      intervalMs = 30_000,
      minDelayMs = 1000,
      maxDelayMs = 300_000,
      log = defaultLog,
      sleep = abortableSleep,
      random = Math.random,
      now = () => new Date(),
      setting = "pg.url",
      queryTimeoutMs = 60_000,
    } = options;
    for (
      const [name, value] of [
        ["intervalMs", intervalMs],
        ["minDelayMs", minDelayMs],
        ["queryTimeoutMs", queryTimeoutMs],
      ] as const
    ) {
      if (!(value > 0)) {
        throw new RangeError(
          `Cannot create the sync loop as '${name}' must be > 0: current value is ${value}`,
        );
      }
    }
    if (!(maxDelayMs >= minDelayMs)) {
      throw new RangeError(
        `Cannot create the sync loop as 'maxDelayMs' must be >= 'minDelayMs' (${minDelayMs}): current value is ${maxDelayMs}`,
      );
    }
    this.#outbox = outbox;
    this.#sql = sql;
    this.#options = {
      deviceId,
      batchSize,
      intervalMs,
      minDelayMs,
      maxDelayMs,
      log,
      sleep,
      random,
      now,
      setting,
      queryTimeoutMs,
    };
    this.#onPass = options.onPass;
    this.#prepare = options.prepare;
    this.#afterPass = options.afterPass;
    this.#hooks = options.hooks ?? {};
    this.#external = options.signal;
    this.#where = pgTarget(sql);
  }

  /** One line for a failed pass: local (outbox) or Postgres, never both. */
  #describe(err: unknown): string {
    const o = this.#options;
    try {
      return describePgError(err, {
        setting: o.setting,
        ...(this.#where ? { where: this.#where } : {}),
      });
    } catch {
      return `Sync pass failed: ${String(err).split(/\r?\n/)[0]}`;
    }
  }

  /** Consecutive failed passes (0 while healthy). */
  get failures(): number {
    return this.#failures;
  }

  /** True from `start()` until the loop has ended (after `stop()` or an abort). */
  get running(): boolean {
    return this.#running !== null;
  }

  /** Starts the loop (a second call does nothing). */
  start(): void {
    if (this.#running !== null || this.#stop.signal.aborted) return;
    const external = this.#external;
    if (external?.aborted) return;
    const onAbort = () => this.#halt();
    external?.addEventListener("abort", onAbort, { once: true });
    this.#running = this.#run().finally(() => {
      external?.removeEventListener("abort", onAbort);
      this.#running = null;
    });
  }

  /** Runs the next pass now instead of waiting out the delay. */
  kick(): void {
    this.#kicked = true;
    this.#wake.abort();
  }

  /**
   * Stops the loop: the current batch finishes (never abandoned mid-commit),
   * then the loop ends.
   */
  async stop(): Promise<void> {
    this.#halt();
    const running = this.#running;
    if (running !== null) await running;
    this.#running = null;
  }

  #halt(): void {
    this.#stop.abort();
    this.#wake.abort();
  }

  async #run(): Promise<void> {
    const o = this.#options;
    const stop = this.#stop.signal;
    while (!stop.aborted) {
      this.#kicked = false;
      let delayMs: number;
      let outcome: SyncPassOutcome;
      try {
        if (this.#prepare) {
          await this.#prepare();
          this.#prepare = undefined;
        }
        const result = await syncOnce(this.#outbox, this.#sql, {
          deviceId: o.deviceId,
          batchSize: o.batchSize,
          log: o.log,
          signal: stop,
          hooks: this.#hooks,
          now: o.now,
          setting: o.setting,
          queryTimeoutMs: o.queryTimeoutMs,
        });
        if (!stop.aborted && this.#afterPass) await this.#afterPass();
        const at = o.now().toISOString();
        if (!stop.aborted) {
          local(
            this.#outbox,
            "record the sync time",
            () => this.#outbox.recordSyncSuccess(at),
          );
        }
        if (this.#failures > 0) {
          o.log.info("postgres sync recovered", { failures: this.#failures });
        }
        this.#failures = 0;
        delayMs = o.intervalMs;
        outcome = { ok: true, result, at };
        if (result.sent + result.rejected > 0) {
          o.log.info("synced events to postgres", {
            sent: result.sent,
            duplicates: result.duplicates,
            rejected: result.rejected,
          });
        }
      } catch (err) {
        if (stop.aborted && isAbortError(err)) break;
        this.#failures += 1;
        delayMs = backoffDelay(this.#failures, o);
        const message = this.#describe(err);
        // The handler itself must not throw: recording the error is a write
        // to the same outbox that may be full or read-only.
        let recorded = true;
        try {
          this.#outbox.recordSyncError(message);
        } catch {
          recorded = false;
        }
        o.log.warn(message, {
          failures: this.#failures,
          retry_in_ms: Math.round(delayMs),
          ...(recorded ? {} : { recorded: false }),
        });
        outcome = {
          ok: false,
          error: message,
          failures: this.#failures,
          delayMs,
          at: o.now().toISOString(),
        };
      }
      try {
        this.#onPass?.(outcome);
      } catch (err) {
        // A hook (e.g. retention pruning the outbox on a full disk) must not
        // end the loop either.
        o.log.warn("sync pass hook failed", {
          error: this.#describe(err),
        });
      }
      if (stop.aborted) break;
      if (this.#kicked) continue;
      if (this.#wake.signal.aborted) this.#wake = new AbortController();
      await o.sleep(delayMs, this.#wake.signal);
      if (this.#wake.signal.aborted && !stop.aborted) {
        this.#wake = new AbortController();
      }
    }
  }
}

function isAbortError(err: unknown): boolean {
  return err instanceof DOMException && err.name === "AbortError";
}
