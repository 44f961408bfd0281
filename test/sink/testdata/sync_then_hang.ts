/**
 * Child process of `sync_kill_test.ts`: syncs an outbox and, right after the
 * COMMIT of batch N (before the rows are marked sent), prints
 * `COMMITTED <ids>` and blocks forever, waiting for SIGKILL.
 *
 * Usage: sync_then_hang.ts OUTBOX_PATH PG_URL BATCH_N BATCH_SIZE
 *
 * @module
 */
import { Logger } from "../../../src/log/mod.ts";
import { Outbox } from "../../../src/sink/outbox.ts";
import { connectPg } from "../../../src/sink/pg_client.ts";
import { syncOnce } from "../../../src/sink/sync.ts";

const [outboxPath, url, batchArg, sizeArg] = Deno.args;
if (!outboxPath || !url || !batchArg || !sizeArg) {
  throw new TypeError(
    "Usage: sync_then_hang.ts OUTBOX_PATH PG_URL BATCH_N BATCH_SIZE",
  );
}
const hangAfter = Number(batchArg);
const outbox = Outbox.open(outboxPath);
const sql = connectPg({ url, log: new Logger({ sink: () => {} }) });
let batches = 0;
await syncOnce(outbox, sql, {
  deviceId: "child",
  batchSize: Number(sizeArg),
  pullAlerts: false,
  hooks: {
    afterCommit: async (ids) => {
      batches += 1;
      if (batches < hangAfter) return;
      console.log(`COMMITTED ${ids.length} ${ids[0]}-${ids[ids.length - 1]}`);
      // Keep the event loop alive and never return: the parent kills us.
      setInterval(() => {}, 60_000);
      await new Promise<never>(() => {});
    },
  },
});
console.log("FINISHED");
