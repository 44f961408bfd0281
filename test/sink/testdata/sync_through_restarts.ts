/**
 * Child process of `sync_restart_test.ts`: runs the daemon's `SyncLoop`
 * while adding `BATCH` events to the outbox every `ADD_MS`, until stdin
 * closes; then waits (bounded) until the outbox is drained, prints
 * `DRAINED <total>` and exits 0. Any crash of the process (an unhandled
 * socket error, an unhandled rejection) makes it exit non-zero.
 *
 * Usage: sync_through_restarts.ts OUTBOX_PATH PG_URL
 *
 * @module
 */
import { Logger } from "../../../src/log/mod.ts";
import { Outbox } from "../../../src/sink/outbox.ts";
import { closePg, connectPg } from "../../../src/sink/pg_client.ts";
import { SyncLoop } from "../../../src/sink/sync.ts";

const [outboxPath, url] = Deno.args;
if (!outboxPath || !url) {
  throw new TypeError("Usage: sync_through_restarts.ts OUTBOX_PATH PG_URL");
}
const BATCH = 5;
const ADD_MS = 20;
const lines: string[] = [];
const log = new Logger({ level: "debug", sink: (l) => lines.push(l) });
const outbox = Outbox.open(outboxPath);
const sql = connectPg({ url, log, connectTimeoutS: 2 });
const loop = new SyncLoop(outbox, sql, {
  deviceId: "restarts",
  batchSize: 10,
  intervalMs: 20,
  minDelayMs: 20,
  maxDelayMs: 200,
  queryTimeoutMs: 3000,
  log,
});
loop.start();

let added = 0;
let stdinOpen = true;
(async () => {
  for await (const _ of Deno.stdin.readable) { /* until closed */ }
  stdinOpen = false;
})();
while (stdinOpen) {
  const events = Array.from({ length: BATCH }, (_, i) => {
    const n = added + i;
    return {
      eventKey: `restart-clip:${n}`,
      videoId: "restart-clip",
      trackId: n,
      frameIdx: n,
      ts: new Date(Date.UTC(2026, 1, 1) + n * 100).toISOString(),
      finalPlate: `RS${n}`,
      plateConfidence: 0.9,
      carBbox: [0, 0, 100, 80] as [number, number, number, number],
      plateBbox: [10, 50, 40, 60] as [number, number, number, number],
    };
  });
  added += outbox.addMany(events);
  loop.kick();
  await new Promise((r) => setTimeout(r, ADD_MS));
}
// Drain: bounded by passes, not by time.
for (let i = 0; i < 2000 && outbox.pendingCount() > 0; i++) {
  loop.kick();
  await new Promise((r) => setTimeout(r, 10));
}
await loop.stop();
const pending = outbox.pendingCount();
await closePg(sql, 2000);
outbox.close();
const guarded = lines.filter((l) => l.includes("late socket error")).length;
console.log(`DRAINED ${added} pending=${pending} guarded=${guarded}`);
Deno.exit(pending === 0 ? 0 : 3);
