/**
 * A bound on each isolate's JS garbage: a full garbage collection once the
 * old generation has grown by a slack (2 MiB) above the least it was seen
 * at, checked every 30 s.
 *
 * V8 starts a full (mark-compact) collection when the old generation
 * reaches a limit it sets from the heap left after the last one; its
 * memory reducer, which collects a heap gone quiet, showed no sign of
 * running in the daemon. In isolates that keep 8-11 MiB live (the main
 * thread and each stage worker) that lets garbage pile up for most of an
 * hour: in a soak of the loaded daemon (`deno task bench soak
 * --v8-flags=--trace-gc`), the plate detector's worker went 55 minutes
 * without a full GC while its old space grew from 8.7 to about 15 MiB, and
 * the one that came took the daemon's RSS from 244 to 236 MiB; the idle
 * daemon's main thread gained about 1 MiB of old space each 10 minutes
 * with no full GC after start-up. Collecting at a small slack instead
 * keeps each isolate within a few MiB of what it holds live. A full GC of
 * such a heap took 12.7 ms in the idle daemon and a median of 18.5 ms
 * (longest 142 ms, on a shared 2-core machine) in the loaded one over a
 * 90-minute soak, so one every 30 s at most costs under 0.1 % of a core.
 *
 * The collection is V8's `gc()`, which exists only with
 * `--v8-flags=--expose-gc` (the dashcam task and the compiled binary pass
 * it, see scripts/compile.ts `V8_FLAGS`); without it {@linkcode exposedGc}
 * returns null and the trim does nothing.
 *
 * @module
 */

import { getHeapSpaceStatistics } from "node:v8";

/** Options for {@linkcode HeapTrimmer}. */
export interface HeapTrimOptions {
  /** Bytes of heap growth above the least seen that start a collection. @default {2 MiB} */
  slackBytes?: number;
  /** This isolate's old generation in use, in bytes. @default {oldGenerationBytes} */
  oldGenerationBytes?: () => number;
  /** A full collection; null turns the trim off. @default {exposedGc()} */
  collect?: (() => void) | null;
}

/** What an isolate's trim tells the daemon's metrics. */
export interface HeapReport {
  /** Old generation in use now ({@linkcode oldGenerationBytes}), bytes. */
  usedBytes: number;
  /** Full collections the trim made. */
  collections: number;
  /** Whether the isolate can collect (`gc()` exposed). */
  enabled: boolean;
}

/** Default slack of {@linkcode HeapTrimmer}: 2 MiB. */
export const HEAP_TRIM_SLACK_BYTES = 2 * 1024 * 1024;
/** Default period of {@linkcode startHeapTrim}: 30 s. */
export const HEAP_TRIM_EVERY_MS = 30_000;

/** V8's young generation (semi-spaces), left out of {@linkcode oldGenerationBytes}. */
const YOUNG_SPACES = new Set(["new_space", "new_large_object_space"]);

/**
 * Bytes in use in this isolate's JS heap outside the young generation
 * (`node:v8` heap space statistics): what only a full collection frees.
 * The young generation (up to 1 MiB a semi-space with the product's V8
 * flags) fills and empties with every scavenge, and counting it would
 * start full collections that find little garbage.
 *
 * @returns Bytes.
 */
export function oldGenerationBytes(): number {
  let bytes = 0;
  for (const space of getHeapSpaceStatistics()) {
    if (!YOUNG_SPACES.has(space.space_name)) bytes += space.space_used_size;
  }
  return bytes;
}

/**
 * V8's `gc()` (a full, compacting collection of this isolate), or null
 * when the process was started without `--v8-flags=--expose-gc`.
 *
 * @returns The collect function or null.
 */
export function exposedGc(): (() => void) | null {
  const gc = (globalThis as { gc?: unknown }).gc;
  return typeof gc === "function" ? () => gc() : null;
}

/**
 * Decides, check by check, whether this isolate's heap holds enough
 * garbage to collect.
 *
 * @example Collects once the old generation is 2 MiB above its least
 * ```ts
 * import assert from "node:assert/strict";
 * import { HeapTrimmer } from "./heap_trim.ts";
 *
 * let used = 10 << 20;
 * const trimmer = new HeapTrimmer({
 *   oldGenerationBytes: () => used,
 *   collect: () => { used = 10 << 20; },
 * });
 * used += 1 << 20;
 * assert.equal(trimmer.check(), false);
 * used += 1 << 20;
 * assert.equal(trimmer.check(), true);
 * assert.equal(trimmer.collections, 1);
 * ```
 */
export class HeapTrimmer {
  #slack: number;
  #oldGeneration: () => number;
  #collect: (() => void) | null;
  #least: number;
  #collections = 0;

  /** @param options Slack, heap reading and collect function. */
  constructor(options: HeapTrimOptions = {}) {
    this.#slack = options.slackBytes ?? HEAP_TRIM_SLACK_BYTES;
    this.#oldGeneration = options.oldGenerationBytes ?? oldGenerationBytes;
    this.#collect = options.collect === undefined
      ? exposedGc()
      : options.collect;
    this.#least = this.#oldGeneration();
  }

  /** Whether a collect function is there (false: every check is a no-op). */
  get enabled(): boolean {
    return this.#collect !== null;
  }

  /** Collections made so far. */
  get collections(): number {
    return this.#collections;
  }

  /** @returns The old generation in use now and the collections made. */
  report(): HeapReport {
    return {
      usedBytes: this.#oldGeneration(),
      collections: this.#collections,
      enabled: this.enabled,
    };
  }

  /**
   * Reads the old generation; collects when it is `slackBytes` or more above the
   * least seen since the last collection (V8's own collections lower
   * that least too), and takes what is left after it as the new least.
   *
   * @returns Whether it collected.
   */
  check(): boolean {
    if (!this.#collect) return false;
    const used = this.#oldGeneration();
    if (used < this.#least) this.#least = used;
    if (used - this.#least < this.#slack) return false;
    this.#collect();
    this.#collections++;
    this.#least = this.#oldGeneration();
    return true;
  }
}

/** Options for {@linkcode startHeapTrim}. */
export interface StartHeapTrimOptions extends HeapTrimOptions {
  /** Milliseconds between checks. @default {HEAP_TRIM_EVERY_MS} */
  everyMs?: number;
  /**
   * Calls `fn` every `ms` until the returned function is called.
   * @default {setInterval, unref-ed so it keeps no process alive}
   */
  every?: (fn: () => void, ms: number) => () => void;
}

/** A running trim: its trimmer and the function that stops it. */
export interface HeapTrim {
  /** The trimmer checked on each tick. */
  trimmer: HeapTrimmer;
  /** Stops the checks. */
  stop(): void;
}

function unrefInterval(fn: () => void, ms: number): () => void {
  const timer = setInterval(fn, ms);
  Deno.unrefTimer(timer);
  return () => clearInterval(timer);
}

/**
 * Checks this isolate's heap every `everyMs` with a {@linkcode HeapTrimmer}.
 * With no collect function (no `--expose-gc`) it starts no timer.
 *
 * @param options Period, slack, heap reading, collect function, timer.
 * @returns The running trim.
 */
export function startHeapTrim(options: StartHeapTrimOptions = {}): HeapTrim {
  const trimmer = new HeapTrimmer(options);
  if (!trimmer.enabled) return { trimmer, stop: () => {} };
  const every = options.every ?? unrefInterval;
  const stop = every(
    () => trimmer.check(),
    options.everyMs ?? HEAP_TRIM_EVERY_MS,
  );
  return { trimmer, stop };
}

/**
 * The one-line warning of a daemon whose isolates cannot collect on their
 * own schedule, or null when they can.
 *
 * @param trimmer The main thread's trimmer.
 * @returns The warning line or null.
 */
export function heapTrimWarning(trimmer: HeapTrimmer): string | null {
  return trimmer.enabled ? null : "V8's gc() is not exposed, so JS garbage " +
    "waits for V8's own full collections (up to an hour in a quiet " +
    "daemon): start dashcam with --v8-flags=--max-semi-space-size=1," +
    "--expose-gc, as `deno task dashcam` and the compiled binary do";
}
