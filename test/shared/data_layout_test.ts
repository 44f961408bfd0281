import assert from "node:assert/strict";
import { join } from "node:path";
import {
  countFrames,
  cropRef,
  dataLayout,
  evidenceRef,
  frameRef,
} from "../../src/shared/data_layout.ts";

Deno.test("`dataLayout()` names every file and folder of the data dir under its root", () => {
  const d = dataLayout("/data");
  assert.deepEqual(
    [d.lock, d.pipelineDb, d.outboxDb, d.frames, d.crops, d.evidence, d.spool],
    [
      "/data/dashcam.lock",
      "/data/pipeline.db",
      "/data/outbox.db",
      "/data/frames",
      "/data/crops",
      "/data/evidence",
      "/data/spool",
    ],
  );
  assert.equal(d.framesOf("v1"), "/data/frames/v1");
  assert.equal(d.cropsOf("v1"), "/data/crops/v1");
  assert.equal(d.evidenceOf("v1"), "/data/evidence/v1");
});

Deno.test("refs are relative to the data dir and resolve inside the clip's folder", () => {
  const d = dataLayout("/data");
  assert.equal(frameRef("v1", 12), "frames/v1/000012.ppm");
  assert.equal(d.resolve(frameRef("v1", 12)), "/data/frames/v1/000012.ppm");
  assert.equal(cropRef("v1", "000012_0.ppm"), "crops/v1/000012_0.ppm");
  assert.equal(evidenceRef("v1", 3), "evidence/v1/3.png");
  assert.ok(d.resolve(evidenceRef("v1", 3)).startsWith(d.evidenceOf("v1")));
});

Deno.test("`countFrames()` counts .ppm files in clip folders only, and 0 without frames/", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.equal(await countFrames(dir), 0);
    const d = dataLayout(dir);
    await Deno.mkdir(d.framesOf("a"), { recursive: true });
    await Deno.mkdir(d.framesOf("b"), { recursive: true });
    await Deno.writeFile(d.resolve(frameRef("a", 0)), new Uint8Array(1));
    await Deno.writeFile(d.resolve(frameRef("a", 1)), new Uint8Array(1));
    await Deno.writeFile(d.resolve(frameRef("b", 0)), new Uint8Array(1));
    await Deno.writeFile(join(d.framesOf("b"), "x.ppm.tmp"), new Uint8Array(1));
    await Deno.writeFile(join(d.frames, "stray.ppm"), new Uint8Array(1));
    assert.equal(await countFrames(dir), 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
