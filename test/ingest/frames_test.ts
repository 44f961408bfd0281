import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeFrames, PpmStreamSplitter } from "../../src/ingest/frames.ts";
import { decodePpm, encodePpm } from "../../src/ingest/ppm.ts";
import { BadClipError } from "../../src/ingest/probe.ts";
import { makeTestClip } from "../support/clips.ts";

/** 2x1 image (11 header + 6 pixel bytes = 17). */
const A = encodePpm({
  width: 2,
  height: 1,
  data: new Uint8Array([1, 2, 3, 4, 5, 6]),
});
/** 1x2 image (11 header + 6 pixel bytes = 17), different pixels. */
const B = encodePpm({
  width: 1,
  height: 2,
  data: new Uint8Array([80, 90, 100, 110, 120, 130]),
});
const STREAM = new Uint8Array([...A, ...B]);

/** Feeds `chunks` to a fresh splitter; returns the images and what is left. */
function split(
  chunks: Uint8Array[],
): { images: Uint8Array[]; pending: number } {
  const s = new PpmStreamSplitter();
  const images: Uint8Array[] = [];
  for (const c of chunks) images.push(...s.push(c));
  return { images, pending: s.pending };
}

Deno.test("`PpmStreamSplitter` returns each image once its last byte arrives", () => {
  const s = new PpmStreamSplitter();
  assert.deepEqual(s.push(A.subarray(0, 16)), []);
  assert.equal(s.pending, 16);
  assert.deepEqual(s.push(A.subarray(16)), [A]);
  assert.equal(s.pending, 0);
  assert.deepEqual(s.push(new Uint8Array(0)), []);
  assert.deepEqual(s.push(STREAM), [A, B]);
  assert.equal(s.pending, 0);
});

Deno.test("`PpmStreamSplitter` gives the same two images for a split at every byte offset", () => {
  for (let cut = 0; cut <= STREAM.length; cut++) {
    const out = split([STREAM.subarray(0, cut), STREAM.subarray(cut)]);
    assert.deepEqual(out, { images: [A, B], pending: 0 }, `cut at ${cut}`);
  }
});

Deno.test("`PpmStreamSplitter` gives the same two images for every pair of cuts", () => {
  for (let i = 0; i <= STREAM.length; i++) {
    for (let j = i; j <= STREAM.length; j++) {
      const out = split([
        STREAM.subarray(0, i),
        STREAM.subarray(i, j),
        STREAM.subarray(j),
      ]);
      assert.deepEqual(out, { images: [A, B], pending: 0 }, `cuts ${i}, ${j}`);
    }
  }
});

Deno.test("`PpmStreamSplitter` handles one byte at a time", () => {
  const out = split([...STREAM].map((b) => new Uint8Array([b])));
  assert.deepEqual(out, { images: [A, B], pending: 0 });
});

Deno.test("`PpmStreamSplitter` keeps an incomplete image pending", () => {
  const out = split([STREAM.subarray(0, STREAM.length - 1)]);
  assert.deepEqual(out.images, [A]);
  assert.equal(out.pending, B.length - 1);
});

Deno.test("`PpmStreamSplitter` throws on bytes that are not a PPM", () => {
  const s = new PpmStreamSplitter();
  assert.throws(
    () => s.push(new TextEncoder().encode("not a ppm stream")),
    /not a binary PPM/,
  );
});

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "frames_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("`decodeFrames()` samples a 2 s 25 fps clip at 5 fps into 10 frames", async () => {
  await withTempDir(async (dir) => {
    const clip = await makeTestClip(dir, "clip.mp4", {
      durationS: 2,
      size: "160x120",
    });
    const frames = [];
    for await (const f of decodeFrames(clip, { fps: 5 })) frames.push(f);
    assert.equal(frames.length, 10); // 2 s * 5 fps
    assert.deepEqual(
      frames.map((f) => f.index),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    for (const f of frames) {
      assert.equal(f.width, 160);
      assert.equal(f.height, 120);
      // "P6\n160 120\n255\n" is 15 bytes, then 160 * 120 * 3 pixel bytes.
      assert.equal(f.ppm.length, 15 + 160 * 120 * 3);
      const image = decodePpm(f.ppm);
      assert.equal(image.data.length, 57_600);
    }
    // testsrc moves: consecutive samples are different pictures.
    assert.notDeepEqual(frames[0].ppm, frames[1].ppm);
  });
});

Deno.test("`decodeFrames()` throws BadClipError naming a file that is not a video", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "notes.mp4");
    await Deno.writeTextFile(path, "this is a text file, not a video\n");
    await assert.rejects(
      async () => {
        for await (const _ of decodeFrames(path, { fps: 5 })) {
          // no frames expected
        }
      },
      (err: unknown) => {
        assert.ok(err instanceof BadClipError, `BadClipError, got ${err}`);
        assert.ok(
          err.message.startsWith(`Cannot use clip ${JSON.stringify(path)}: `),
          err.message,
        );
        assert.equal(err.message.includes("\n"), false);
        return true;
      },
    );
  });
});
