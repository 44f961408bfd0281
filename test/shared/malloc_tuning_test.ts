/**
 * The malloc arena cap and mmap threshold are set through glibc's mallopt,
 * and a MALLOC_ARENA_MAX or MALLOC_MMAP_THRESHOLD_ the user set wins; what
 * malloc holds is read back with malloc_info.
 */
import assert from "node:assert/strict";
import {
  arenaMaxSet,
  arenaWarning,
  mallocStats,
  parseMallocInfo,
  tuneMalloc,
} from "../../src/shared/mod.ts";

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

// The shape of a real malloc_info(0, ...) document (glibc 2.36, a daemon
// started with MALLOC_ARENA_MAX=2), its <sizes> lists cut short: each arena
// has totals of its own before the process's.
function arena(
  nr: number,
  b: {
    sizes: string;
    fast: string;
    rest: string;
    current: number;
    max: number;
  },
): string {
  return `<heap nr="${nr}">
<sizes>
${b.sizes}
</sizes>
<total type="fast" ${b.fast}/>
<total type="rest" ${b.rest}/>
<system type="current" size="${b.current}"/>
<system type="max" size="${b.max}"/>
<aspace type="total" size="${b.current}"/>
<aspace type="mprotect" size="${b.max}"/>
</heap>`;
}
const MALLOC_INFO = `<malloc version="1">
${
  arena(0, {
    sizes: '  <size from="33" to="33" total="2739" count="83"/>',
    fast: 'count="0" size="0"',
    rest: 'count="1537" size="2581184"',
    current: 25862144,
    max: 25862144,
  })
}
${
  arena(1, {
    sizes: '  <unsorted from="497" to="8689" total="25973" count="5"/>',
    fast: 'count="5" size="352"',
    rest: 'count="544" size="2700175"',
    current: 26251264,
    max: 28778496,
  })
}
<total type="fast" count="5" size="352"/>
<total type="rest" count="2081" size="5281359"/>
<total type="mmap" count="54" size="55091200"/>
<system type="current" size="52113408"/>
<system type="max" size="54640640"/>
<aspace type="total" size="52113408"/>
<aspace type="mprotect" size="54640640"/>
</malloc>
`;

Deno.test("parseMallocInfo counts the arenas and takes the process's totals, not the first arena's", () => {
  assert.deepEqual(parseMallocInfo(MALLOC_INFO), {
    arenas: 2,
    heapBytes: 52113408,
    freeBytes: 352 + 5281359,
    mmapBytes: 55091200,
  });
  assert.equal(parseMallocInfo(""), null);
  assert.equal(parseMallocInfo("<html>no</html>"), null);
  // Cut off before the process's totals.
  assert.equal(
    parseMallocInfo(
      MALLOC_INFO.slice(0, MALLOC_INFO.indexOf('<total type="mmap"')),
    ),
    null,
  );
});

Deno.test("mallocStats reads this process's arenas on Linux", () => {
  const stats = mallocStats();
  if (!linux) return assert.equal(stats, null);
  assert.ok(stats !== null);
  assert.ok(stats.arenas >= 1, JSON.stringify(stats));
  assert.ok(stats.heapBytes > 0 && stats.freeBytes <= stats.heapBytes);
  // A block over the mmap threshold (128 KiB unless raised) shows while held.
  const before = mallocStats()!.mmapBytes;
  const held = new Uint8Array(64 * 2 ** 20).fill(1);
  const during = mallocStats()!.mmapBytes;
  assert.ok(during - before >= 32 * 2 ** 20, `${before} -> ${during}`);
  assert.equal(held[held.length - 1], 1); // held until here
});

Deno.test("arenaWarning names MALLOC_ARENA_MAX only when arenas exceed the cap and the user set none", () => {
  const stats = (arenas: number) => ({
    arenas,
    heapBytes: 1,
    freeBytes: 0,
    mmapBytes: 0,
  });
  assert.equal(
    arenaWarning(stats(16), { cap: 2, userSet: false }),
    "glibc malloc has 16 arenas, more than the 2 asked for (set too late in this process; each keeps the memory freed in it): start dashcam with MALLOC_ARENA_MAX=2 in its environment, as `deno task dashcam` and dashcam.service do",
  );
  assert.equal(arenaWarning(stats(2), { cap: 2, userSet: false }), null);
  assert.equal(arenaWarning(stats(16), { cap: 2, userSet: true }), null);
  assert.equal(arenaWarning(null, { cap: 2, userSet: false }), null);
});

Deno.test("arenaMaxSet tells whether MALLOC_ARENA_MAX is in the environment", () => {
  withEnv({ MALLOC_ARENA_MAX: "4" }, () => assert.equal(arenaMaxSet(), true));
  withEnv(
    { MALLOC_ARENA_MAX: undefined },
    () => assert.equal(arenaMaxSet(), false),
  );
});
