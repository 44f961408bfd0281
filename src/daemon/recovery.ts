/**
 * Opening `pipeline.db` at engine start with crash recovery: a damaged file
 * is set aside and rebuilt empty (one error line), tasks left running by a
 * previous run are released (or failed after too many interruptions), and
 * clips failed by a passing fault are taken up again.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import {
  openGraphDb,
  recoverInterrupted,
  requeueTransientFailures,
} from "../graph/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { DataLayout } from "../shared/mod.ts";
import { failureKindOfMessage } from "./fs_fault.ts";

/**
 * Opens the graph database of a data dir and recovers from a crash.
 *
 * @param data The data dir's layout.
 * @param options Logger, and how many times a task may be interrupted before it fails.
 * @returns The open database.
 * @throws {Error} When the database cannot be opened (the error names it).
 */
export function openRecovered(
  data: DataLayout,
  options: { log: Logger; maxInterrupts: number },
): DatabaseSync {
  const { log } = options;
  const db = openGraphDb(data.pipelineDb, {
    onDamaged: ({ error, asidePath }) =>
      log.error(
        `${error.message}; set aside as ${asidePath} and rebuilt empty: ` +
          `clips still in the inbox are processed again (their events ` +
          `are not duplicated); delete the set-aside file once it is not needed`,
      ),
  });
  const recovered = recoverInterrupted(db, {
    now: Date.now(),
    maxInterrupts: options.maxInterrupts,
  });
  if (recovered.released || recovered.failed) {
    log.info("recovered tasks left running by a previous run", recovered);
  }
  // Clips failed by a passing fault (read-only disk, folder removed) are
  // not the clips' fault: take them up again.
  for (
    const { videoId, error } of requeueTransientFailures(db, {
      now: Date.now(),
      classify: (e) => failureKindOfMessage(e, { dataDir: data.root }),
    })
  ) {
    log.info("clip failed by a passing fault; taking it up again", {
      video: videoId,
      error: error ?? "",
    });
  }
  return db;
}
