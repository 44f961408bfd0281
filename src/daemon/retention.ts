/**
 * Retention of synced events: events synced longer ago than
 * `daemon.retention_days` are deleted from the outbox with their evidence.
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";
import type { Outbox } from "../sink/mod.ts";
import { dataLayout } from "../shared/mod.ts";

/**
 * Deletes synced events older than `days`, and their evidence crops.
 *
 * @param outbox The outbox.
 * @param options Data dir, age and logger.
 * @returns Events deleted.
 */
export function pruneSynced(
  outbox: Outbox,
  options: { dataDir: string; days: number; log: Logger },
): number {
  const before = new Date(Date.now() - options.days * 86_400_000).toISOString();
  const { deleted, evidence } = outbox.pruneSent(before);
  const data = dataLayout(options.dataDir);
  for (const path of evidence) {
    if (path.includes("..")) continue;
    try {
      Deno.removeSync(data.resolve(path));
    } catch { /* already gone */ }
  }
  if (deleted > 0) {
    options.log.info("pruned synced events", {
      events: deleted,
      older_than: before,
    });
  }
  return deleted;
}
