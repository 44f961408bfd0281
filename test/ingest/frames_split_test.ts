import assert from "node:assert/strict";
import { PpmStreamSplitter } from "../../src/ingest/frames.ts";
import { encodePpm } from "../../src/shared/ppm.ts";

Deno.test("`PpmStreamSplitter.push()` returns the same two images whatever the chunk boundaries", () => {
  const a = encodePpm({
    width: 3,
    height: 2,
    data: new Uint8Array(18).map((_, i) => i),
  });
  const b = encodePpm({ width: 2, height: 1, data: new Uint8Array(6).fill(9) });
  const all = new Uint8Array([...a, ...b]);
  for (let cut1 = 0; cut1 <= all.length; cut1++) {
    for (let cut2 = cut1; cut2 <= all.length; cut2++) {
      const s = new PpmStreamSplitter();
      const out = [
        ...s.push(all.subarray(0, cut1)),
        ...s.push(all.subarray(cut1, cut2)),
        ...s.push(all.subarray(cut2)),
      ];
      assert.equal(out.length, 2, `cuts ${cut1},${cut2}`);
      assert.deepEqual([...out[0]], [...a]);
      assert.deepEqual([...out[1]], [...b]);
      assert.equal(s.pending, 0);
    }
  }
});

Deno.test("`PpmStreamSplitter.push()` keeps a partial image pending and rejects a bad header", () => {
  const a = encodePpm({
    width: 4,
    height: 4,
    data: new Uint8Array(48).fill(7),
  });
  const s = new PpmStreamSplitter();
  assert.deepEqual(s.push(a.subarray(0, 30)), []);
  assert.equal(s.pending, 30);
  assert.equal(s.push(a.subarray(30)).length, 1);
  assert.throws(
    () =>
      new PpmStreamSplitter().push(
        new TextEncoder().encode("GIF89a".repeat(20)),
      ),
    SyntaxError,
  );
});
