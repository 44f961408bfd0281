import assert from "node:assert/strict";
import {
  byobSource,
  type ByteSource,
  PpmFrameReader,
} from "../../src/ingest/ppm_stream.ts";
import { encodePpm } from "../../src/shared/ppm.ts";

/** 2x1 image (11 header + 6 pixel bytes = 17). */
const A = encodePpm({
  width: 2,
  height: 1,
  data: new Uint8Array([1, 2, 3, 4, 5, 6]),
});
/** 1x2 image, other pixels (also 17 bytes). */
const B = encodePpm({
  width: 1,
  height: 2,
  data: new Uint8Array([80, 90, 100, 110, 120, 130]),
});
/** 50x40 image: more than the first buffer, so it needs a larger one. */
const C = encodePpm({
  width: 50,
  height: 40,
  data: new Uint8Array(6000).map((_, i) => i % 251),
});
const STREAM = new Uint8Array([...A, ...B, ...C, ...A]);

/**
 * A source that hands out `bytes` in the pieces `cuts` makes (like pipe
 * reads), never more than the view asks for, writing into the caller's
 * view without moving its memory.
 */
function pieces(bytes: Uint8Array, cuts: number[]): ByteSource {
  const ends = [...cuts, bytes.length];
  let at = 0;
  let piece = 0;
  return {
    read(view) {
      while (piece < ends.length && ends[piece] <= at) piece++;
      if (at >= bytes.length) return Promise.resolve(null);
      const n = Math.min(view.length, Math.min(ends[piece], bytes.length) - at);
      view.set(bytes.subarray(at, at + n));
      at += n;
      return Promise.resolve(view.subarray(0, n));
    },
  };
}

/** Every image of the source, each copied when it is returned. */
async function readAll(
  source: ByteSource,
  reuseBuffer: boolean,
): Promise<Uint8Array[]> {
  const r = new PpmFrameReader(source, { reuseBuffer });
  const out: Uint8Array[] = [];
  for (let img = await r.next(); img; img = await r.next()) {
    out.push(img.ppm.slice());
  }
  return out;
}

Deno.test("PpmFrameReader returns the same images whatever the read boundaries, with and without buffer reuse", async () => {
  const want = [A, B, C, A];
  // Every offset around the images' ends and headers, and a stride between.
  const ends = [A.length, A.length + B.length, STREAM.length - A.length];
  const offsets = new Set<number>();
  for (const e of [0, ...ends]) {
    for (let d = -3; d <= 20; d++) {
      offsets.add(Math.min(Math.max(0, e + d), STREAM.length));
    }
  }
  for (let o = 0; o <= STREAM.length; o += 101) offsets.add(o);
  const cuts = [...offsets].sort((a, b) => a - b);
  for (const reuse of [false, true]) {
    for (const i of cuts) {
      for (const j of cuts.filter((j) => j >= i)) {
        const got = await readAll(pieces(STREAM, [i, j]), reuse);
        assert.deepEqual(got, want, `reuse ${reuse}, cuts ${i}, ${j}`);
      }
    }
    const oneByte = [...STREAM.keys()];
    assert.deepEqual(await readAll(pieces(STREAM, oneByte), reuse), want);
  }
});

Deno.test("PpmFrameReader with reuseBuffer reads images of one size into one buffer; without, each image keeps its own", async () => {
  const stream = new Uint8Array([...C, ...C, ...C]);
  const reused = new PpmFrameReader(pieces(stream, [100, 5000]), {
    reuseBuffer: true,
  });
  const first = await reused.next();
  assert.deepEqual([first!.width, first!.height], [50, 40]);
  const seen = [first!.ppm.slice()];
  for (let img = await reused.next(); img; img = await reused.next()) {
    assert.equal(img.ppm.buffer, first!.ppm.buffer, "the same buffer again");
    seen.push(img.ppm.slice());
  }
  assert.deepEqual(seen, [C, C, C]);
  // The first small buffer, then one of the image's size.
  assert.equal(reused.buffersAllocated, 2);

  const fresh = new PpmFrameReader(pieces(stream, [100, 5000]));
  const kept = [
    (await fresh.next())!.ppm,
    (await fresh.next())!.ppm,
    (await fresh.next())!.ppm,
  ];
  assert.equal(await fresh.next(), null);
  assert.deepEqual(kept, [C, C, C], "an image returned earlier stays whole");
});

/** A byte stream (`type: "bytes"`) giving `bytes` at most 50 at a time. */
function byteStream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    type: "bytes",
    pull(controller) {
      const request = controller.byobRequest!;
      const view = request.view as Uint8Array;
      const n = Math.min(view.byteLength, 50, bytes.length - at);
      if (n === 0) {
        controller.close();
        request.respond(0);
        return;
      }
      view.set(bytes.subarray(at, at + n));
      at += n;
      request.respond(n);
    },
  });
}

Deno.test("PpmFrameReader reads a byte stream through a BYOB reader that moves its buffers", async () => {
  for (const reuse of [false, true]) {
    const source = byobSource(byteStream(STREAM));
    assert.deepEqual(await readAll(source, reuse), [A, B, C, A]);
  }
});

Deno.test("PpmFrameReader drops an image the stream ends inside, and refuses bytes that are not a PPM", async () => {
  const cut = STREAM.subarray(0, A.length + B.length + 100);
  assert.deepEqual(await readAll(pieces(cut, []), true), [A, B]);
  await assert.rejects(
    () =>
      readAll(pieces(new TextEncoder().encode("GIF89a".repeat(20)), []), false),
    SyntaxError,
  );
  await assert.rejects(
    () =>
      readAll(
        pieces(new TextEncoder().encode("P6 " + "1".repeat(80)), []),
        false,
      ),
    /malformed PPM header/,
  );
});
