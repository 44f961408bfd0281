/**
 * Opens the data dir's outbox (`DATA_DIR/outbox.db`) for a command that
 * writes to it, reporting loudly when it is missing from a data dir that
 * was used before (`pipeline.db` is there): unsynced events may be lost.
 *
 * @module
 */
import { existsSync } from "node:fs";
import type { Logger } from "../log/mod.ts";
import { DATA_NAMES, dataLayout } from "../shared/mod.ts";
import { Outbox, type OutboxOptions } from "./outbox.ts";

/** Name of the outbox file in the data dir. */
export const OUTBOX_FILE: string = DATA_NAMES.outboxDb;

/**
 * Opens `DATA_DIR/outbox.db` (see {@linkcode Outbox.open} for damage).
 *
 * @param dataDir The data dir (must exist).
 * @param options Logger, plus any outbox option.
 * @returns The open outbox.
 */
export function openDataDirOutbox(
  dataDir: string,
  options: Omit<OutboxOptions, "log" | "readOnly"> & { log: Logger },
): Outbox {
  const data = dataLayout(dataDir);
  const expectExisting = options.expectExisting ?? existsSync(data.pipelineDb);
  return Outbox.open(data.outboxDb, {
    ...options,
    expectExisting,
  });
}
