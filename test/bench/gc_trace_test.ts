import assert from "node:assert/strict";
import { fullGcs, heapTrends } from "./gc_trace.ts";

// Lines as Deno 2.9.6 printed them with --trace-gc in a soak's daemon.log,
// mixed with the daemon's own log and a line cut by another writer.
const LOG = [
  "[19722:0x5610618ba000]      412 ms: Scavenge 4.5 (5.2) -> 4.1 (6.2) MB, pooled: 0.0 MB, 0.71 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure;",
  "[19722:0x5610618ba000]    29583 ms: Mark-Compact 12.1 (14.3) -> 10.0 (13.5) MB, pooled: 0.0 MB, 5.40 / 0.00 ms  (average mu = 0.998, current mu = 0.998) allocation failure; GC in old space requested",
  "2026-12-01T17:51:26.326Z INFO  clip taken path=/tmp/soak/inbox/soak_0002.avi video=d66751b43c78f595",
  "[19722:0x7f9d24060000]    38378 ms: Incremental Mark-Compact (reduce) 10.1 (11.8) -> 8.0 (10.3) MB, pooled: 0.0 MB, 6.09 / 0.00 ms (+ 5.4 ms in 58 steps since start of marking) finalize incremental marking via task; GC in old space requested",
  "[19722:0x5610618ba000]   700000 ms: Incremental Mark-Compact 15.3 (17.8) -> 10.3 (16.3) MB, pooled: 1.5 MB, 4.41 / 0.00 ms",
  "[19722:0x7f9d24060000]   800000 ms: Mark-Compact (reduce) 11.0 (13.3) -> 10.9 (12",
  "[19722:0x5610618ba000]   760000 ms: Mark-Compact 12.4 (15.0) -> 10.2 (14.5) MB, pooled: 0.0 MB, 36.84 / 0.00 ms (average mu = 0.999, current mu = 0.999) testing; GC in old space requested",
].join("\n");

Deno.test("`fullGcs()` keeps each isolate's mark-compacts and leaves scavenges and other lines", () => {
  const gcs = fullGcs(LOG);
  assert.deepEqual([...gcs.keys()], ["0x5610618ba000", "0x7f9d24060000"]);
  assert.deepEqual(gcs.get("0x5610618ba000"), [
    {
      ms: 29583,
      beforeMiB: 12.1,
      afterMiB: 10,
      committedMiB: 13.5,
      forced: false,
    },
    {
      ms: 700000,
      beforeMiB: 15.3,
      afterMiB: 10.3,
      committedMiB: 16.3,
      forced: false,
    },
    // Asked for by gc() (the heap trim): V8's reason is "testing".
    {
      ms: 760000,
      beforeMiB: 12.4,
      afterMiB: 10.2,
      committedMiB: 14.5,
      forced: true,
    },
  ]);
  // The cut line has no committed size after the arrow: left out.
  assert.deepEqual(gcs.get("0x7f9d24060000"), [
    {
      ms: 38378,
      beforeMiB: 10.1,
      afterMiB: 8,
      committedMiB: 10.3,
      forced: false,
    },
  ]);
});

Deno.test("`heapTrends()` leaves out full GCs before the warm-up and reports an isolate with none after it", () => {
  assert.deepEqual(heapTrends(fullGcs(LOG), { warmupMs: 600_000 }), [
    {
      isolate: "0x5610618ba000",
      fullGcs: 2,
      forced: 1,
      peakBefore: 15.3,
      first: 10.3,
      last: 10.2,
      min: 10.2,
      max: 10.3,
    },
    {
      isolate: "0x7f9d24060000",
      fullGcs: 0,
      forced: 0,
      peakBefore: null,
      first: null,
      last: null,
      min: null,
      max: null,
    },
  ]);
});
