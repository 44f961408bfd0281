/**
 * Health and Prometheus metrics of the daemon. Rendering is pure; the
 * daemon serves it on localhost when `daemon.health_port` is set.
 *
 * @module
 */

import type { HeapReport, MallocStats } from "../shared/mod.ts";

/** What the daemon knows at one moment. */
export interface MetricsSnapshot {
  /** Milliseconds since the dispatcher's last round. */
  dispatcherAgeMs: number;
  /** Clips by status. */
  clips: Record<string, number>;
  /** category → status → tasks. */
  tasks: Record<string, Record<string, number>>;
  /** Results not handled yet. */
  unhandledResults: number;
  /** Frames waiting on disk. */
  framesOnDisk: number;
  /** Outbox rows not yet in Postgres. */
  outboxPending: number;
  /** Outbox rows Postgres refused. */
  outboxRejected: number;
  /** Last successful sync (ISO), or null. */
  lastSyncAt: string | null;
  /** Milliseconds spent running tasks, per category. */
  busyMs: Record<string, number>;
  /** Tasks finished by outcome, and worker restarts. */
  finished: Record<string, number>;
  /**
   * Resident memory of the daemon process, bytes (`Deno.memoryUsage().rss`:
   * every worker and onnxruntime included; its ffmpeg and ExifTool not,
   * whose `/proc` entries Deno reads only with `--allow-all`). Null where
   * unknown.
   */
  residentBytes: number | null;
  /** glibc malloc's arenas and bytes (`mallocStats`), or null where unknown. */
  malloc: MallocStats | null;
  /**
   * Each isolate's JS heap and the collections its trim made
   * (heap_trim.ts): `main`, then `worker-N` as of its last finished task.
   */
  jsHeaps: Array<{ isolate: string } & HeapReport>;
}

/** The dispatcher is taken as stuck when silent this long. */
export const STUCK_AFTER_MS = 30_000;

/**
 * The `/health` answer: ok unless the dispatcher has been silent.
 *
 * @param s The snapshot.
 * @returns HTTP status and body.
 */
export function renderHealth(
  s: MetricsSnapshot,
): { status: number; body: string } {
  const ok = s.dispatcherAgeMs < STUCK_AFTER_MS;
  return {
    status: ok ? 200 : 503,
    body: JSON.stringify({
      status: ok ? "ok" : "stuck",
      dispatcher_age_ms: Math.round(s.dispatcherAgeMs),
      clips: s.clips,
      frames_on_disk: s.framesOnDisk,
      outbox_pending: s.outboxPending,
      last_sync_at: s.lastSyncAt,
      ...(s.residentBytes !== null ? { rss_mib: mib(s.residentBytes) } : {}),
      ...(s.malloc !== null ? { malloc_arenas: s.malloc.arenas } : {}),
    }),
  };
}

function mib(bytes: number): number {
  return Math.round(bytes / 2 ** 20 * 10) / 10;
}

function label(v: string): string {
  return v.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll(
    "\n",
    "\\n",
  );
}

/**
 * The `/metrics` answer in the Prometheus text format.
 *
 * @example
 * ```ts
 * import { renderMetrics } from "./metrics.ts";
 * import assert from "node:assert/strict";
 * const text = renderMetrics({ dispatcherAgeMs: 5, clips: { done: 2 }, tasks: {}, unhandledResults: 0,
 *   framesOnDisk: 3, outboxPending: 1, outboxRejected: 0, lastSyncAt: null, busyMs: {}, finished: {},
 *   residentBytes: null, malloc: null, jsHeaps: [] });
 * assert.match(text, /^dashcam_clips\{status="done"\} 2$/m);
 * ```
 * @param s The snapshot.
 * @returns The exposition text.
 */
export function renderMetrics(s: MetricsSnapshot): string {
  const out: string[] = [];
  const gauge = (
    name: string,
    help: string,
    rows: Array<[Record<string, string>, number]>,
    type = "gauge",
  ) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of rows) {
      const l = Object.entries(labels).map(([k, v]) => `${k}="${label(v)}"`)
        .join(",");
      out.push(
        `${name}${l ? `{${l}}` : ""} ${Number.isFinite(value) ? value : 0}`,
      );
    }
  };
  gauge(
    "dashcam_clips",
    "Clips by status.",
    Object.entries(s.clips).map(([status, n]) => [{ status }, n]),
  );
  gauge(
    "dashcam_tasks",
    "Tasks by stage and status.",
    Object.entries(s.tasks).flatMap(([category, byStatus]) =>
      Object.entries(byStatus).map(([status, n]) =>
        [{ category, status }, n] as [Record<string, string>, number]
      )
    ),
  );
  gauge(
    "dashcam_results_unhandled",
    "Results the dispatcher has not handled.",
    [[{}, s.unhandledResults]],
  );
  gauge("dashcam_frames_on_disk", "Sampled frames waiting on disk.", [[
    {},
    s.framesOnDisk,
  ]]);
  gauge("dashcam_outbox_pending", "Final events not yet in Postgres.", [[
    {},
    s.outboxPending,
  ]]);
  gauge(
    "dashcam_outbox_rejected",
    "Final events Postgres refused (kept aside).",
    [[{}, s.outboxRejected]],
  );
  gauge(
    "dashcam_last_sync_timestamp_seconds",
    "Unix time of the last successful sync (0: never).",
    [[{}, s.lastSyncAt ? Date.parse(s.lastSyncAt) / 1000 : 0]],
  );
  gauge(
    "dashcam_dispatcher_age_seconds",
    "Seconds since the dispatcher's last round.",
    [[{}, s.dispatcherAgeMs / 1000]],
  );
  gauge(
    "dashcam_stage_busy_seconds_total",
    "Seconds spent running tasks (inference included), by stage.",
    Object.entries(s.busyMs).map(([category, ms]) => [{ category }, ms / 1000]),
    "counter",
  );
  gauge(
    "dashcam_tasks_finished_total",
    "Task attempts finished, by outcome (restarts: workers replaced).",
    Object.entries(s.finished).map(([outcome, n]) => [{ outcome }, n]),
    "counter",
  );
  if (s.residentBytes !== null) {
    gauge(
      "process_resident_memory_bytes",
      "Resident memory of the daemon process (workers included; not its ffmpeg or ExifTool), bytes.",
      [[{}, s.residentBytes]],
    );
  }
  if (s.malloc !== null) {
    gauge("dashcam_malloc_arenas", "glibc malloc arenas of the daemon.", [[
      {},
      s.malloc.arenas,
    ]]);
    gauge(
      "dashcam_malloc_heap_bytes",
      "Bytes glibc malloc's arenas hold from the system, free bins included.",
      [[{}, s.malloc.heapBytes]],
    );
    gauge(
      "dashcam_malloc_free_bytes",
      "Bytes free in glibc malloc's arenas (held, not in use).",
      [[{}, s.malloc.freeBytes]],
    );
    gauge(
      "dashcam_malloc_mmap_bytes",
      "Bytes in blocks glibc malloc mmap-ed one by one (large buffers).",
      [[{}, s.malloc.mmapBytes]],
    );
  }
  const heaps = (pick: (h: HeapReport) => number) =>
    s.jsHeaps.map((h) => [{ isolate: h.isolate }, pick(h)]) as Array<
      [Record<string, string>, number]
    >;
  if (s.jsHeaps.length > 0) {
    gauge(
      "dashcam_js_heap_used_bytes",
      "JS heap in use outside the young generation, bytes, by isolate (main thread, stage workers).",
      heaps((h) => h.usedBytes),
    );
    gauge(
      "dashcam_js_heap_collections_total",
      "Full collections the heap trim made, by isolate.",
      heaps((h) => h.collections),
      "counter",
    );
    gauge(
      "dashcam_js_heap_trim",
      "1 where the isolate collects its garbage at a small slack (gc() exposed), else 0.",
      heaps((h) => h.enabled ? 1 : 0),
    );
  }
  return out.join("\n") + "\n";
}
