import assert from "node:assert/strict";
import {
  type MetricsSnapshot,
  renderHealth,
  renderMetrics,
  STUCK_AFTER_MS,
} from "../../src/daemon/metrics.ts";

const snap: MetricsSnapshot = {
  dispatcherAgeMs: 120,
  clips: { done: 3, decoding: 1 },
  tasks: { ocr: { done: 10, queued: 2 }, 'we"ird': { failed: 1 } },
  unhandledResults: 4,
  framesOnDisk: 6,
  outboxPending: 7,
  outboxRejected: 1,
  lastSyncAt: "2026-11-24T10:00:00.000Z",
  busyMs: { plate_detect: 2500 },
  finished: { done: 40, restarts: 1 },
  residentBytes: 250 * 2 ** 20,
  malloc: {
    arenas: 2,
    heapBytes: 40 * 2 ** 20,
    freeBytes: 3 * 2 ** 20,
    mmapBytes: 70 * 2 ** 20,
  },
  jsHeaps: [
    { isolate: "main", usedBytes: 9 * 2 ** 20, collections: 3, enabled: true },
    {
      isolate: "worker-1",
      usedBytes: 11 * 2 ** 20,
      collections: 0,
      enabled: false,
    },
  ],
};

Deno.test("`renderHealth()` is 200 while the dispatcher runs and 503 once it is silent", () => {
  const ok = renderHealth(snap);
  assert.equal(ok.status, 200);
  assert.deepEqual(JSON.parse(ok.body).status, "ok");
  const stuck = renderHealth({ ...snap, dispatcherAgeMs: STUCK_AFTER_MS + 1 });
  assert.equal(stuck.status, 503);
  assert.equal(JSON.parse(stuck.body).status, "stuck");
});

Deno.test("`renderMetrics()` writes every gauge and counter in the Prometheus text format", () => {
  const lines = renderMetrics(snap).trim().split("\n");
  for (
    const want of [
      'dashcam_clips{status="done"} 3',
      'dashcam_clips{status="decoding"} 1',
      'dashcam_tasks{category="ocr",status="queued"} 2',
      'dashcam_tasks{category="we\\"ird",status="failed"} 1',
      "dashcam_results_unhandled 4",
      "dashcam_frames_on_disk 6",
      "dashcam_outbox_pending 7",
      "dashcam_outbox_rejected 1",
      "dashcam_last_sync_timestamp_seconds 1795514400",
      "dashcam_dispatcher_age_seconds 0.12",
      'dashcam_stage_busy_seconds_total{category="plate_detect"} 2.5',
      'dashcam_tasks_finished_total{outcome="restarts"} 1',
      "process_resident_memory_bytes 262144000",
      "dashcam_malloc_arenas 2",
      "dashcam_malloc_heap_bytes 41943040",
      "dashcam_malloc_free_bytes 3145728",
      "dashcam_malloc_mmap_bytes 73400320",
      'dashcam_js_heap_used_bytes{isolate="main"} 9437184',
      'dashcam_js_heap_used_bytes{isolate="worker-1"} 11534336',
      'dashcam_js_heap_collections_total{isolate="main"} 3',
      'dashcam_js_heap_trim{isolate="main"} 1',
      'dashcam_js_heap_trim{isolate="worker-1"} 0',
      "# TYPE dashcam_stage_busy_seconds_total counter",
      "# TYPE dashcam_js_heap_collections_total counter",
    ]
  ) assert.ok(lines.includes(want), `missing: ${want}`);
  // Every sample line is "name{labels} value" or "name value".
  for (const l of lines.filter((l) => !l.startsWith("#"))) {
    assert.match(l, /^[a-z_]+(\{[^}]*\})? -?[0-9.e+]+$/, l);
  }
  assert.ok(
    renderMetrics({ ...snap, lastSyncAt: null }).includes(
      "dashcam_last_sync_timestamp_seconds 0\n",
    ),
  );
});

Deno.test("memory figures appear in /health and /metrics only where they are known", () => {
  const health = JSON.parse(renderHealth(snap).body);
  assert.equal(health.rss_mib, 250);
  assert.equal(health.malloc_arenas, 2);
  const none = { ...snap, residentBytes: null, malloc: null, jsHeaps: [] };
  const unknown = JSON.parse(renderHealth(none).body);
  assert.equal(unknown.rss_mib, undefined);
  assert.equal(unknown.malloc_arenas, undefined);
  const text = renderMetrics(none);
  assert.ok(!text.includes("resident_memory"), text);
  assert.ok(!text.includes("dashcam_malloc_"), text);
  assert.ok(!text.includes("dashcam_js_heap_"), text);
});
