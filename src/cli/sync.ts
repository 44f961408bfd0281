/**
 * `sync --once`: sends the outbox backlog to the fleet Postgres and exits
 * with the count; exit 1 when Postgres cannot be reached (nothing is lost:
 * the rows stay pending).
 *
 * @module
 */
import { log } from "../log/mod.ts";
import {
  closePg,
  connectFleet,
  describePgError,
  openDataDirOutbox,
  prepareFleet,
  syncOnce,
} from "../sink/mod.ts";
import { makeDataDir } from "../shared/data_fs.ts";
import { configFromFlags, parseCommandArgs, UsageError } from "./common.ts";

/** Usage text. */
export const USAGE =
  "sync --once [--json]     send the outbox backlog to the fleet Postgres";

/**
 * Runs the command.
 *
 * @param args Arguments after `sync`.
 * @returns The exit code.
 */
export async function runSync(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, { once: { type: "boolean" } });
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
  await makeDataDir(config.data_dir);
  const outbox = openDataDirOutbox(config.data_dir, { log });
  const sql = connectFleet(config.pg, { log });
  try {
    await prepareFleet(sql, { pg: config.pg, log });
    const result = await syncOnce(outbox, sql, {
      deviceId: config.pg.device_id,
      batchSize: config.pg.batch_size,
      log,
    });
    outbox.recordSyncSuccess(new Date().toISOString());
    const pending = outbox.pendingCount();
    if (values.json) console.log(JSON.stringify({ ...result, pending }));
    else {
      console.log(
        `sent ${result.sent} event(s)${
          result.duplicates ? `, ${result.duplicates} already there` : ""
        }${
          result.rejected ? `, ${result.rejected} rejected (kept aside)` : ""
        }; ${pending} pending`,
      );
    }
    return 0;
  } catch (err) {
    const message = describePgError(err, { url: config.pg.url ?? undefined });
    outbox.recordSyncError(message);
    throw new Error(message);
  } finally {
    await closePg(sql);
    outbox.close();
  }
}
