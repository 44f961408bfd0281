/**
 * Each isolate collects its JS garbage once its heap is a slack above the
 * least it was seen at; V8's gc() is there with the product's V8 flags (in
 * the main thread and in workers) and lowers the heap.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { V8_FLAGS } from "../../scripts/compile.ts";
import { runScript } from "../support/script.ts";
import {
  HEAP_TRIM_EVERY_MS,
  HEAP_TRIM_SLACK_BYTES,
  HeapTrimmer,
  heapTrimWarning,
  startHeapTrim,
} from "../../src/shared/mod.ts";

const MiB = 2 ** 20;

/** A heap whose size the test sets; collecting drops it to `live`. */
function fakeHeap(start: number) {
  const heap = { used: start, live: start, collections: 0 };
  return {
    heap,
    oldGenerationBytes: () => heap.used,
    collect: () => {
      heap.collections++;
      heap.used = heap.live;
    },
  };
}

Deno.test("HeapTrimmer collects once the heap is the slack above its least, and starts again from what is left", () => {
  const { heap, oldGenerationBytes, collect } = fakeHeap(10 * MiB);
  const trimmer = new HeapTrimmer({
    oldGenerationBytes,
    collect,
    slackBytes: 2 * MiB,
  });
  heap.used = 12 * MiB - 1;
  assert.equal(trimmer.check(), false);
  assert.equal(heap.collections, 0);
  heap.used = 12 * MiB;
  assert.equal(trimmer.check(), true);
  assert.equal(heap.collections, 1);
  assert.equal(heap.used, 10 * MiB);
  // Live data grew: the least is what the collection left.
  heap.live = 11 * MiB;
  heap.used = 12.5 * MiB;
  assert.equal(trimmer.check(), true);
  heap.used = 12.9 * MiB;
  assert.equal(trimmer.check(), false);
  heap.used = 13 * MiB;
  assert.equal(trimmer.check(), true);
  assert.deepEqual(trimmer.report(), {
    usedBytes: 11 * MiB,
    collections: 3,
    enabled: true,
  });
});

Deno.test("HeapTrimmer counts the slack from below V8's own collections", () => {
  const { heap, oldGenerationBytes, collect } = fakeHeap(10 * MiB);
  const trimmer = new HeapTrimmer({ oldGenerationBytes, collect });
  heap.used = 11.5 * MiB;
  assert.equal(trimmer.check(), false);
  heap.used = 7 * MiB; // V8 collected by itself
  assert.equal(trimmer.check(), false);
  heap.used = 7 * MiB + HEAP_TRIM_SLACK_BYTES - 1;
  assert.equal(trimmer.check(), false);
  heap.used = 7 * MiB + HEAP_TRIM_SLACK_BYTES;
  assert.equal(trimmer.check(), true);
  assert.equal(heap.collections, 1);
});

Deno.test("HeapTrimmer without a collect function never collects and says so", () => {
  const trimmer = new HeapTrimmer({
    oldGenerationBytes: () => 100 * MiB,
    collect: null,
  });
  assert.equal(trimmer.check(), false);
  assert.deepEqual(trimmer.report(), {
    usedBytes: 100 * MiB,
    collections: 0,
    enabled: false,
  });
  assert.match(
    heapTrimWarning(trimmer)!,
    /^V8's gc\(\) is not exposed.*--v8-flags=--max-semi-space-size=1,--expose-gc/,
  );
  assert.equal(
    heapTrimWarning(new HeapTrimmer({ collect: () => {} })),
    null,
  );
});

Deno.test("startHeapTrim checks on each tick of its period until stopped, and starts no timer without gc()", () => {
  const { heap, oldGenerationBytes, collect } = fakeHeap(10 * MiB);
  const ticks: Array<{ fn: () => void; ms: number; stopped: boolean }> = [];
  const every = (fn: () => void, ms: number) => {
    const t = { fn, ms, stopped: false };
    ticks.push(t);
    return () => {
      t.stopped = true;
    };
  };
  const trim = startHeapTrim({ oldGenerationBytes, collect, every });
  assert.equal(ticks.length, 1);
  assert.equal(ticks[0].ms, HEAP_TRIM_EVERY_MS);
  ticks[0].fn();
  assert.equal(heap.collections, 0);
  heap.used = 13 * MiB;
  ticks[0].fn();
  assert.equal(heap.collections, 1);
  assert.equal(trim.trimmer.collections, 1);
  trim.stop();
  assert.equal(ticks[0].stopped, true);

  const off = startHeapTrim({
    oldGenerationBytes,
    collect: null,
    every,
    everyMs: 5,
  });
  assert.equal(ticks.length, 1);
  assert.equal(off.trimmer.enabled, false);
  off.stop();
});

/** Runs `main` (module source) with `flags`; returns its JSON output. */
async function probeIn(main: string, flags: string[]): Promise<unknown> {
  const out = await runScript(main, { flags: [...flags, "--allow-read"] });
  assert.ok(out.success, out.stderr);
  return JSON.parse(out.stdout);
}

Deno.test("with the product's V8 flags, gc() is exposed in the main thread and in workers, and a trim lowers the heap", async () => {
  const dir = await Deno.makeTempDir({ prefix: "heap_trim_" });
  try {
    const mod = new URL("../../src/shared/heap_trim.ts", import.meta.url).href;
    // Allocates about 8 MiB of objects that become garbage, then checks.
    const body = `
      import { exposedGc, HeapTrimmer, oldGenerationBytes } from ${
      JSON.stringify(mod)
    };
      export function probe() {
        const trimmer = new HeapTrimmer();
        let junk = [];
        for (let i = 0; i < 100_000; i++) junk.push({ i, s: "x" + i });
        // Survives two scavenges: promoted to the old generation.
        for (let i = 0; i < 2_000_000; i++) ({ i });
        junk = null;
        const before = oldGenerationBytes();
        const collected = trimmer.check();
        return {
          gc: exposedGc() !== null,
          collected,
          droppedMiB: (before - oldGenerationBytes()) / 2 ** 20,
        };
      }`;
    await Deno.writeTextFile(join(dir, "probe.ts"), body);
    await Deno.writeTextFile(
      join(dir, "worker.ts"),
      `import { probe } from "./probe.ts";
       self.onmessage = () => self.postMessage(probe());`,
    );
    // The main thread's module comes on stdin; a worker needs a file.
    const main = `import { probe } from ${
      JSON.stringify(pathToFileURL(join(dir, "probe.ts")).href)
    };
       const main = probe();
       const w = new Worker(${
      JSON.stringify(pathToFileURL(join(dir, "worker.ts")).href)
    }, { type: "module" });
       w.onmessage = (e) => {
         console.log(JSON.stringify({ main, worker: e.data }));
         w.terminate();
       };
       w.postMessage(null);`;
    type Probe = { gc: boolean; collected: boolean; droppedMiB: number };
    const on = await probeIn(main, [V8_FLAGS]) as Record<string, Probe>;
    for (const isolate of ["main", "worker"]) {
      const p = on[isolate];
      assert.equal(p.gc, true, isolate);
      assert.equal(p.collected, true, isolate);
      assert.ok(p.droppedMiB > 4, `${isolate}: ${p.droppedMiB} MiB`);
    }
    const off = await probeIn(main, []) as Record<string, Probe>;
    for (const isolate of ["main", "worker"]) {
      assert.deepEqual(
        { gc: off[isolate].gc, collected: off[isolate].collected },
        { gc: false, collected: false },
        isolate,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
