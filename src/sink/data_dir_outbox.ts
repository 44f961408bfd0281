/**
 * Opens the data dir's outbox (`DATA_DIR/outbox.db`) for a command that
 * writes to it, reporting loudly when it is missing from a data dir that
 * was used before (`pipeline.db` is there): unsynced events may be lost.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../log/mod.ts";
import { Outbox, type OutboxOptions } from "./outbox.ts";

/** Name of the outbox file in the data dir. */
export const OUTBOX_FILE = "outbox.db";

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
  const expectExisting = options.expectExisting ??
    existsSync(join(dataDir, "pipeline.db"));
  return Outbox.open(join(dataDir, OUTBOX_FILE), {
    ...options,
    expectExisting,
  });
}
