/**
 * The vehicle detector in its own worker (`read --parallel`'s path), on real
 * stills with the real default model.
 */
import assert from "node:assert/strict";
import { decodeImageFile } from "../../src/ingest/image_decode.ts";
import { VEHICLE_CLASS_IDS } from "../../src/vision/assign.ts";
import { WorkerDetector } from "../../src/vision/detector_client.ts";
import { loadManifest, resolveModel } from "../../src/vision/model_store.ts";
import { Detector } from "../../src/vision/models.ts";
import { SHARED_MEDIA, TEST_MODELS } from "../support/shared.ts";

const STILLS = [
  "dayride_type1_001_t0056.jpg",
  "dayride_type1_001_t0087.jpg",
  "dayride_type1_001_t0282.jpg",
].map((f) => `${SHARED_MEDIA}/stills/ro_dashcam/${f}`);

const load = { modelsDir: TEST_MODELS, backend: "native", threads: 1 } as const;
const classIds = [...VEHICLE_CLASS_IDS];

Deno.test("WorkerDetector finds what the detector finds in-thread, leaves the caller's image as it was, and reuses its pixel buffers", async () => {
  const entry = await resolveModel(await loadManifest(), "vehicle_detect", {
    dir: TEST_MODELS,
  });
  const local = await Detector.load(entry, load);
  const remote = await WorkerDetector.open(entry, load);
  try {
    const images = await Promise.all(STILLS.map((f) => decodeImageFile(f)));
    assert.ok(images.every((i) => i.data.length === images[0].data.length));
    for (const img of images) {
      const before = img.data.slice();
      const want = await local.detect(img, { classIds });
      assert.ok(want.length > 0, "the stills show vehicles");
      assert.deepEqual(await remote.detect(img, { classIds }), want);
      assert.deepEqual(img.data, before, "the caller keeps its pixels");
    }
    // One at a time: the buffer handed back carries the next image.
    assert.equal(remote.buffersAllocated, 1);
    // Two in flight need two buffers; both then serve the next images.
    const both = await Promise.all(
      images.slice(0, 2).map((img) => remote.detect(img, { classIds })),
    );
    assert.deepEqual(both[1], await local.detect(images[1], { classIds }));
    assert.equal(remote.buffersAllocated, 2);
    await Promise.all(
      images.slice(1).map((img) => remote.detect(img, { classIds })),
    );
    assert.equal(remote.buffersAllocated, 2);
    // A larger image needs a larger buffer, once.
    const big = {
      width: images[0].width * 2,
      height: images[0].height,
      data: new Uint8Array(images[0].data.length * 2),
    };
    await remote.detect(big, { classIds });
    await remote.detect(images[0], { classIds });
    assert.equal(remote.buffersAllocated, 3);
  } finally {
    await Promise.all([local.close(), remote.close()]);
  }
});
