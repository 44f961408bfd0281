/**
 * glibc malloc settings for the long-running commands, set once before any
 * worker or inference thread starts:
 *
 * - **Arenas capped at 2** (`M_ARENA_MAX`). glibc gives each thread that
 *   contends for the heap an arena of its own, up to 8 per core, and an
 *   arena keeps the memory freed in it; the stage workers and
 *   onnxruntime's threads then hold freed tensors and frames in arenas of
 *   their own. Measured on `process` of 3 media clips: peak RSS 566 MiB
 *   with glibc's default, 510 MiB with `MALLOC_ARENA_MAX=2`, at the same
 *   CPU time. glibc fixes its arena limit once, when the 9th arena is made
 *   (malloc/arena.c, `narenas_limit`), and `deno run main.ts` has made 15-16
 *   arenas loading the modules before main.ts runs (measured with
 *   {@linkcode mallocStats} on 2 cores): there `mallopt` comes too late and
 *   only `MALLOC_ARENA_MAX=2` in the environment caps them. The dashcam task
 *   and the systemd unit set it; {@linkcode arenaWarning} tells a daemon
 *   started otherwise.
 * - **A fixed mmap threshold of 128 KiB** (`M_MMAP_THRESHOLD`). glibc
 *   starts at 128 KiB but raises the threshold to the size of each
 *   mmap-ed block freed, up to 32 MiB, so after the first frame is freed
 *   every later frame buffer (2.7 MB at 720p) and input tensor comes from
 *   the heap, where freed blocks fragment and stay resident. A fixed
 *   threshold keeps them mmap-ed and returned to the system when freed.
 *   Measured on `process` of the 7 media clips (peak RSS of deno, two runs
 *   each): 391 and 395 MiB with glibc's sliding threshold, 354 and 370 MiB
 *   fixed. The price is page faults on every large buffer allocated anew:
 *   `read` of 108 photos (a short-lived command decoding each JPEG into
 *   fresh buffers) took 9.2 s fixed against 7.5 s sliding, so `read` keeps
 *   glibc's threshold (`mmapThreshold: null`).
 *
 * Calls `mallopt` through FFI (`--allow-ffi`); does nothing where that
 * cannot be done (no FFI permission, not Linux, musl, which has no arenas).
 * A setting the user made through `MALLOC_ARENA_MAX` or
 * `MALLOC_MMAP_THRESHOLD_` is left as it is (the user's choice wins).
 *
 * @module
 */

/** glibc's `M_ARENA_MAX` parameter of `mallopt` (malloc.h). */
const M_ARENA_MAX = -8;
/** glibc's `M_MMAP_THRESHOLD` parameter of `mallopt` (malloc.h). */
const M_MMAP_THRESHOLD = -3;

/** The arena cap of the long-running commands. */
export const MALLOC_ARENAS = 2;

/** Options for {@linkcode tuneMalloc}. */
export interface TuneMallocOptions {
  /** Most arenas. @default {MALLOC_ARENAS} */
  arenas?: number;
  /**
   * Blocks of at least this many bytes are mmap-ed; null leaves glibc's
   * sliding threshold. @default {131072}
   */
  mmapThreshold?: number | null;
}

/** Which settings {@linkcode tuneMalloc} made. */
export interface TuneMallocResult {
  /** The arena cap was set (`mallopt` took it; whether it binds, see the module doc). */
  arenas: boolean;
  /** The mmap threshold was set. */
  mmapThreshold: boolean;
}

function userSet(name: string): boolean {
  try {
    return Deno.env.get(name) !== undefined;
  } catch {
    return false; // no env permission: go on
  }
}

/** The glibc functions this module calls. */
const LIBC = {
  mallopt: { parameters: ["i32", "i32"], result: "i32" },
  open_memstream: { parameters: ["buffer", "buffer"], result: "pointer" },
  malloc_info: { parameters: ["i32", "pointer"], result: "i32" },
  fclose: { parameters: ["pointer"], result: "i32" },
  free: { parameters: ["pointer"], result: "void" },
} as const;

/**
 * Runs `use` with glibc's functions, opened through FFI and closed after.
 *
 * @param use What to do with them.
 * @returns Its result, or null where they cannot be opened (no FFI
 * permission, not Linux, no `libc.so.6` as on musl).
 */
function withLibc<T>(
  use: (libc: Deno.DynamicLibrary<typeof LIBC>["symbols"]) => T,
): T | null {
  if (Deno.build.os !== "linux") return null;
  let libc: Deno.DynamicLibrary<typeof LIBC>;
  try {
    libc = Deno.dlopen("libc.so.6", LIBC);
  } catch {
    return null;
  }
  try {
    return use(libc.symbols);
  } finally {
    libc.close();
  }
}

/**
 * Caps the malloc arenas and fixes the mmap threshold.
 *
 * @param options Arena cap and threshold.
 * @returns Which of the two were set.
 */
export function tuneMalloc(options: TuneMallocOptions = {}): TuneMallocResult {
  const { arenas = MALLOC_ARENAS, mmapThreshold = 128 * 1024 } = options;
  return withLibc((libc) => ({
    arenas: !userSet("MALLOC_ARENA_MAX") &&
      libc.mallopt(M_ARENA_MAX, arenas) === 1,
    mmapThreshold: mmapThreshold !== null &&
      !userSet("MALLOC_MMAP_THRESHOLD_") &&
      libc.mallopt(M_MMAP_THRESHOLD, mmapThreshold) === 1,
  })) ?? { arenas: false, mmapThreshold: false };
}

/** What glibc malloc holds, from `malloc_info` (all arenas together). */
export interface MallocStats {
  /** Arenas (`<heap nr=...>` elements). */
  arenas: number;
  /** Bytes the arenas hold from the system (`system type="current"`). */
  heapBytes: number;
  /** Of those, bytes free in the arenas' bins (`total type="fast"` and `"rest"`). */
  freeBytes: number;
  /** Bytes in blocks mmap-ed one by one (`total type="mmap"`). */
  mmapBytes: number;
}

/**
 * Reads the totals of a glibc `malloc_info(0, ...)` document (glibc 2.x,
 * the format of malloc/malloc.c): the arenas, then one `<total>` of each
 * type and one `<system type="current">` for the whole process after them.
 *
 * @param xml The document.
 * @returns The totals, or null when it is not such a document.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseMallocInfo } from "./malloc_tuning.ts";
 * const xml = `<malloc version="1">
 * <heap nr="0"><system type="current" size="4096"/></heap>
 * <total type="fast" count="1" size="32"/>
 * <total type="rest" count="2" size="1024"/>
 * <total type="mmap" count="1" size="262144"/>
 * <system type="current" size="4096"/>
 * </malloc>`;
 * assert.deepEqual(parseMallocInfo(xml), {
 *   arenas: 1, heapBytes: 4096, freeBytes: 1056, mmapBytes: 262144,
 * });
 * ```
 */
export function parseMallocInfo(xml: string): MallocStats | null {
  const end = xml.lastIndexOf("</heap>");
  const heaps = xml.match(/<heap nr="\d+">/g)?.length ?? 0;
  const tail = end >= 0 ? xml.slice(end) : xml;
  const size = (re: RegExp) => {
    const m = re.exec(tail);
    return m ? Number(m[1]) : null;
  };
  const fast = size(/<total type="fast" count="\d+" size="(\d+)"/);
  const rest = size(/<total type="rest" count="\d+" size="(\d+)"/);
  const mmap = size(/<total type="mmap" count="\d+" size="(\d+)"/);
  const current = size(/<system type="current" size="(\d+)"/);
  if (
    !xml.startsWith("<malloc") || fast === null || rest === null ||
    mmap === null || current === null
  ) return null;
  return {
    arenas: heaps,
    heapBytes: current,
    freeBytes: fast + rest,
    mmapBytes: mmap,
  };
}

/**
 * What glibc malloc holds now: `malloc_info` written to a memory stream
 * (`open_memstream`) through FFI. It walks every arena's free lists under
 * their locks: fine for a metrics scrape, not for a hot loop.
 *
 * @returns The totals, or null where they cannot be read (no FFI
 * permission, not Linux, not glibc).
 */
export function mallocStats(): MallocStats | null {
  return withLibc((libc) => {
    const where = new BigUint64Array(1);
    const length = new BigUint64Array(1);
    const stream = libc.open_memstream(where, length);
    if (stream === null) return null;
    const ok = libc.malloc_info(0, stream) === 0;
    libc.fclose(stream); // sets where and length
    const text = Deno.UnsafePointer.create(where[0]);
    if (text === null) return null;
    try {
      return ok
        ? parseMallocInfo(new Deno.UnsafePointerView(text).getCString())
        : null;
    } finally {
      libc.free(text);
    }
  });
}

/**
 * The warning for a process with more malloc arenas than the cap: one line
 * naming the setting that caps them. None when the user set
 * `MALLOC_ARENA_MAX` (their choice), when the arenas are within the cap, or
 * when they are unknown.
 *
 * @param stats From {@linkcode mallocStats}.
 * @param options `cap`: the arenas asked for; `userSet`: whether
 * `MALLOC_ARENA_MAX` is in the environment.
 * @returns The line, or null.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { arenaWarning } from "./malloc_tuning.ts";
 * const stats = { arenas: 16, heapBytes: 0, freeBytes: 0, mmapBytes: 0 };
 * assert.match(arenaWarning(stats, { cap: 2, userSet: false })!, /MALLOC_ARENA_MAX=2/);
 * assert.equal(arenaWarning(stats, { cap: 2, userSet: true }), null);
 * ```
 */
export function arenaWarning(
  stats: MallocStats | null,
  options: { cap: number; userSet: boolean },
): string | null {
  const { cap, userSet } = options;
  if (userSet || stats === null || stats.arenas <= cap) return null;
  return `glibc malloc has ${stats.arenas} arenas, more than the ${cap} asked for (set too late in this process; each keeps the memory freed in it): start dashcam with MALLOC_ARENA_MAX=${cap} in its environment, as \`deno task dashcam\` and dashcam.service do`;
}

/**
 * Whether the user set `MALLOC_ARENA_MAX` (as {@linkcode tuneMalloc} reads
 * it: false without env permission).
 *
 * @returns True when it is in the environment.
 */
export function arenaMaxSet(): boolean {
  return userSet("MALLOC_ARENA_MAX");
}
