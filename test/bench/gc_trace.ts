/**
 * Reading V8's `--trace-gc` lines out of a daemon's log: each isolate's
 * (main thread's, each worker's) JS heap after every full GC (mark-compact),
 * to tell a growing JS heap from native memory when the RSS of a soak rises.
 *
 * A line looks like (V8 12-14, as Deno 2.9 prints it):
 *
 * ```
 * [19722:0x7f9d24060000]    38378 ms: Mark-Compact (reduce) 10.1 (11.8) -> 8.0 (10.3) MB, ...
 * ```
 *
 * `pid:isolate`, milliseconds since the isolate started, the GC kind, the
 * heap used (committed) before and after, in MB as V8 counts them
 * (2^20 bytes), then the pause and the reason (`testing` for one asked for
 * by `gc()`, which the daemon's heap trim calls).
 *
 * @module
 */

/** One full GC of one isolate. */
export interface FullGc {
  /** Milliseconds since the isolate started. */
  ms: number;
  /** JS heap used before the GC, MiB. */
  beforeMiB: number;
  /** JS heap used after the GC, MiB. */
  afterMiB: number;
  /** JS heap committed after the GC, MiB. */
  committedMiB: number;
  /** Asked for by a `gc()` call (V8 gives the reason `testing`): the daemon's heap trim. */
  forced: boolean;
}

const LINE =
  /^\[\d+:(0x[0-9a-f]+)\]\s+(\d+(?:\.\d+)?) ms: (?:Incremental )?Mark-Compact[^\d]*([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB/;

/** The reason V8 prints for a collection asked for by `gc()`. */
const FORCED = /\btesting\b/;

/**
 * Each isolate's full GCs, in the order of the log. Isolates are keyed by
 * their address, in the order they first appear (the main thread's usually
 * first). Other lines (scavenges, the daemon's own log) are ignored.
 *
 * @param log Text of the log.
 * @returns Isolate address to its full GCs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fullGcs } from "./gc_trace.ts";
 * const log = "[1:0xab]  120 ms: Mark-Compact 12.1 (14.3) -> 10.0 (13.0) MB, pooled: 0.0 MB, 5.1 / 0.00 ms testing;\n";
 * assert.deepEqual([...fullGcs(log)], [["0xab", [
 *   { ms: 120, beforeMiB: 12.1, afterMiB: 10, committedMiB: 13, forced: true },
 * ]]]);
 * ```
 */
export function fullGcs(log: string): Map<string, FullGc[]> {
  const out = new Map<string, FullGc[]>();
  for (const line of log.split("\n")) {
    const m = LINE.exec(line);
    if (!m) continue;
    const gcs = out.get(m[1]) ?? [];
    gcs.push({
      ms: Number(m[2]),
      beforeMiB: Number(m[3]),
      afterMiB: Number(m[5]),
      committedMiB: Number(m[6]),
      forced: FORCED.test(line),
    });
    out.set(m[1], gcs);
  }
  return out;
}

/** One isolate's JS heap over a soak, from its full GCs. */
export interface HeapTrend {
  /** Isolate address. */
  isolate: string;
  /** Full GCs at or after the warm-up. */
  fullGcs: number;
  /** Of them, asked for by `gc()` (the heap trim). */
  forced: number;
  /** Most heap before any of them (the top of the garbage sawtooth), MiB. */
  peakBefore: number | null;
  /** Heap after the first of them, MiB (null with none). */
  first: number | null;
  /** Heap after the last of them, MiB. */
  last: number | null;
  /** Least and most heap after any of them, MiB. */
  min: number | null;
  max: number | null;
}

/**
 * Sums up each isolate's heap after its full GCs from `warmupMs` on (the
 * isolate's own clock: workers start within seconds of the main thread).
 *
 * @param gcs From {@linkcode fullGcs}.
 * @param options `warmupMs`: full GCs before it are left out.
 * @returns One trend per isolate, in the map's order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { heapTrends } from "./gc_trace.ts";
 * const gcs = new Map([["0xab", [
 *   { ms: 10, beforeMiB: 20, afterMiB: 5, committedMiB: 8, forced: false },
 *   { ms: 700, beforeMiB: 12, afterMiB: 9, committedMiB: 12, forced: true },
 *   { ms: 900, beforeMiB: 11, afterMiB: 8, committedMiB: 12, forced: false },
 * ]]]);
 * assert.deepEqual(heapTrends(gcs, { warmupMs: 600 }), [
 *   { isolate: "0xab", fullGcs: 2, forced: 1, peakBefore: 12, first: 9, last: 8, min: 8, max: 9 },
 * ]);
 * ```
 */
export function heapTrends(
  gcs: Map<string, FullGc[]>,
  options: { warmupMs: number },
): HeapTrend[] {
  return [...gcs].map(([isolate, all]) => {
    const warm = all.filter((g) => g.ms >= options.warmupMs);
    const after = warm.map((g) => g.afterMiB);
    return {
      isolate,
      fullGcs: after.length,
      forced: warm.filter((g) => g.forced).length,
      peakBefore: warm.length
        ? Math.max(...warm.map((g) => g.beforeMiB))
        : null,
      first: after.length ? after[0] : null,
      last: after.length ? after[after.length - 1] : null,
      min: after.length ? Math.min(...after) : null,
      max: after.length ? Math.max(...after) : null,
    };
  });
}
