/**
 * The stage worker's frame reader: frames of any size come back with their
 * own pixels from one reused buffer, and bad references are refused.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { frameFileReader } from "../../src/daemon/stage_context.ts";
import { encodePpm } from "../../src/shared/mod.ts";

function image(width: number, height: number, seed: number) {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + seed) & 255;
  return { width, height, data };
}

Deno.test("frameFileReader reads small, large and small frames again with their own pixels", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "frames"));
    const frames = [image(4, 3, 1), image(40, 30, 2), image(2, 2, 3)];
    for (const [i, f] of frames.entries()) {
      await Deno.writeFile(join(dir, `frames/${i}.ppm`), encodePpm(f));
    }
    const read = frameFileReader(dir);
    for (const [i, f] of frames.entries()) {
      const img = await read(`frames/${i}.ppm`);
      assert.equal(img.width, f.width);
      assert.equal(img.height, f.height);
      assert.deepEqual([...img.data], [...f.data]);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("frameFileReader refuses references out of the data dir and names a missing frame", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const read = frameFileReader(dir);
    await assert.rejects(read("../etc/passwd"), /bad payload_ref/);
    await assert.rejects(read("/etc/passwd"), /bad payload_ref/);
    await assert.rejects(
      read("frames/none.ppm"),
      (err: Error) =>
        err.message.includes("frames/none.ppm") &&
        err.cause instanceof Deno.errors.NotFound,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
