/**
 * The malloc arena cap and mmap threshold are set through glibc's mallopt,
 * and a MALLOC_ARENA_MAX or MALLOC_MMAP_THRESHOLD_ the user set wins.
 */
import assert from "node:assert/strict";
import { tuneMalloc } from "../../src/shared/mod.ts";

function withEnv(vars: Record<string, string | undefined>, fn: () => void) {
  const before = Object.fromEntries(
    Object.keys(vars).map((k) => [k, Deno.env.get(k)]),
  );
  try {
    for (const [k, v] of Object.entries(vars)) {
      if (v === undefined) Deno.env.delete(k);
      else Deno.env.set(k, v);
    }
    fn();
  } finally {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) Deno.env.delete(k);
      else Deno.env.set(k, v);
    }
  }
}

const linux = Deno.build.os === "linux";

Deno.test("tuneMalloc sets glibc's arena cap and mmap threshold on Linux", () => {
  withEnv(
    { MALLOC_ARENA_MAX: undefined, MALLOC_MMAP_THRESHOLD_: undefined },
    () => {
      assert.deepEqual(tuneMalloc(), { arenas: linux, mmapThreshold: linux });
    },
  );
});

Deno.test("tuneMalloc leaves a user's MALLOC_ARENA_MAX and MALLOC_MMAP_THRESHOLD_ alone", () => {
  withEnv({ MALLOC_ARENA_MAX: "4", MALLOC_MMAP_THRESHOLD_: undefined }, () => {
    assert.deepEqual(tuneMalloc(), { arenas: false, mmapThreshold: linux });
  });
  withEnv(
    { MALLOC_ARENA_MAX: undefined, MALLOC_MMAP_THRESHOLD_: "65536" },
    () => {
      assert.deepEqual(tuneMalloc(), { arenas: linux, mmapThreshold: false });
    },
  );
});

Deno.test("tuneMalloc with mmapThreshold null leaves glibc's sliding threshold", () => {
  withEnv(
    { MALLOC_ARENA_MAX: undefined, MALLOC_MMAP_THRESHOLD_: undefined },
    () => {
      assert.deepEqual(tuneMalloc({ mmapThreshold: null }), {
        arenas: linux,
        mmapThreshold: false,
      });
    },
  );
});
