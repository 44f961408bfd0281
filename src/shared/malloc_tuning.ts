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
 *   CPU time.
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

/** Options for {@linkcode tuneMalloc}. */
export interface TuneMallocOptions {
  /** Most arenas. @default {2} */
  arenas?: number;
  /**
   * Blocks of at least this many bytes are mmap-ed; null leaves glibc's
   * sliding threshold. @default {131072}
   */
  mmapThreshold?: number | null;
}

/** Which settings {@linkcode tuneMalloc} made. */
export interface TuneMallocResult {
  /** The arena cap was set. */
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

/**
 * Caps the malloc arenas and fixes the mmap threshold.
 *
 * @param options Arena cap and threshold.
 * @returns Which of the two were set.
 */
export function tuneMalloc(options: TuneMallocOptions = {}): TuneMallocResult {
  const { arenas = 2, mmapThreshold = 128 * 1024 } = options;
  const none = { arenas: false, mmapThreshold: false };
  if (Deno.build.os !== "linux") return none;
  let libc: Deno.DynamicLibrary<{
    mallopt: { parameters: ["i32", "i32"]; result: "i32" };
  }>;
  try {
    libc = Deno.dlopen("libc.so.6", {
      mallopt: { parameters: ["i32", "i32"], result: "i32" },
    });
  } catch {
    return none;
  }
  try {
    return {
      arenas: !userSet("MALLOC_ARENA_MAX") &&
        libc.symbols.mallopt(M_ARENA_MAX, arenas) === 1,
      mmapThreshold: mmapThreshold !== null &&
        !userSet("MALLOC_MMAP_THRESHOLD_") &&
        libc.symbols.mallopt(M_MMAP_THRESHOLD, mmapThreshold) === 1,
    };
  } finally {
    libc.close();
  }
}
