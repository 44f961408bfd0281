/**
 * `sync --once [--retry-rejected]`: sends the outbox backlog to the fleet
 * Postgres and exits with the counts, rejected rows included; exit 1 when
 * Postgres cannot be reached (nothing is lost: the rows stay pending).
 * `--retry-rejected` first puts every row Postgres refused back in the queue
 * (after the cause was fixed on the server), instead of waiting for its
 * automatic retry.
 *
 * @module
 */
import { log } from "../log/mod.ts";
import {
  checkFleet,
  closePg,
  connectFleet,
  describePgError,
  openDataDirOutbox,
  syncClips,
  syncEvidence,
  syncOnce,
} from "../sink/mod.ts";
import { makeDataDir } from "../shared/mod.ts";
import { configFromFlags, parseCommandArgs, UsageError } from "./common.ts";
import { assertPgHostAllowed } from "./pg_host.ts";

/** Usage text. */
export const USAGE =
  "sync --once [--retry-rejected] [--json]   send the outbox backlog to the fleet Postgres\n" +
  "                         --retry-rejected: offer the rows Postgres refused again now";

/**
 * Runs the command.
 *
 * @param args Arguments after `sync`.
 * @returns The exit code.
 */
export async function runSync(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, {
    once: { type: "boolean" },
    "retry-rejected": { type: "boolean" },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.once) {
    throw new UsageError(
      "sync runs inside the daemon (run); use sync --once to send the backlog now",
    );
  }
  const config = await configFromFlags(values);
  assertPgHostAllowed(config.pg.url);
  await makeDataDir(config.data_dir);
  const outbox = openDataDirOutbox(config.data_dir, { log });
  const sql = connectFleet(config.pg, { log });
  try {
    await checkFleet(sql, { pg: config.pg });
    const requeued = values["retry-rejected"] ? outbox.retryRejected() : 0;
    if (requeued > 0) {
      log.info("offering rows postgres refused again", { rows: requeued });
    }
    const result = await syncOnce(outbox, sql, {
      deviceId: config.pg.device_id,
      batchSize: config.pg.batch_size,
      log,
    });
    const evidence = await syncEvidence(outbox, sql, {
      dataDir: config.data_dir,
      deviceId: config.pg.device_id,
      keepLocal: !config.evidence.sync,
      maxBytes: config.evidence.max_kb * 1024,
      log,
    });
    if (evidence.inserted > 0) {
      log.info("sent evidence pictures", { pictures: evidence.inserted });
    }
    const clips = await syncClips(outbox, sql, {
      deviceId: config.pg.device_id,
    });
    if (clips.clips > 0) log.info("sent clips and tracks", clips);
    outbox.recordSyncSuccess(new Date().toISOString());
    const stats = outbox.stats();
    const report = {
      ...result,
      requeued,
      pending: stats.pending,
      rejectedTotal: stats.rejected,
      firstRejectedError: stats.firstRejectedError,
      nextRejectedRetryAt: stats.nextRejectedRetryAt,
    };
    if (values.json) console.log(JSON.stringify(report));
    else console.log(formatSyncReport(report));
    return 0;
  } catch (err) {
    const message = describePgError(err, { url: config.pg.url ?? undefined });
    try {
      outbox.recordSyncError(message);
    } catch { /* the outbox may be the fault; the message says so */ }
    throw new Error(message);
  } finally {
    await closePg(sql);
    outbox.close();
  }
}

/**
 * The line `sync --once` prints: this pass's counts, then what is left,
 * rejected rows included (set aside, not pending, but not delivered either).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(
 *   formatSyncReport({ sent: 2, duplicates: 0, rejected: 1, requeued: 0, pending: 0, rejectedTotal: 1,
 *     firstRejectedError: "P0001 no", nextRejectedRetryAt: "2026-01-01T00:10:00.000Z" }),
 *   "sent 2 event(s), 1 rejected now; 0 pending; 1 rejected (set aside, next retry 2026-01-01T00:10:00.000Z," +
 *     " or use --retry-rejected), first error: P0001 no",
 * );
 * ```
 * @param report Counts of the pass and of the outbox after it.
 * @returns One line.
 */
export function formatSyncReport(report: {
  sent: number;
  duplicates: number;
  rejected: number;
  requeued: number;
  pending: number;
  rejectedTotal: number;
  firstRejectedError: string | null;
  nextRejectedRetryAt: string | null;
}): string {
  const parts = [`sent ${report.sent} event(s)`];
  if (report.requeued) parts.push(`${report.requeued} rejected offered again`);
  if (report.duplicates) parts.push(`${report.duplicates} already there`);
  if (report.rejected) parts.push(`${report.rejected} rejected now`);
  let line = `${parts.join(", ")}; ${report.pending} pending`;
  if (report.rejectedTotal > 0) {
    const when = report.nextRejectedRetryAt
      ? `next retry ${report.nextRejectedRetryAt}, or use --retry-rejected`
      : "no automatic retry left, use --retry-rejected";
    line += `; ${report.rejectedTotal} rejected (set aside, ${when})`;
    if (report.firstRejectedError) {
      line += `, first error: ${report.firstRejectedError}`;
    }
  }
  return line;
}
