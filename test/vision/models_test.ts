/**
 * The detector with real models on real stills.
 */
import assert from "node:assert/strict";
import { decodeImageFile } from "../../src/ingest/image_decode.ts";
import { cropImage } from "../../src/vision/image_ops.ts";
import { loadManifest, resolveModel } from "../../src/vision/model_store.ts";
import { Detector } from "../../src/vision/models.ts";
import { SHARED_MEDIA, TEST_MODELS } from "../support/shared.ts";

const load = { modelsDir: TEST_MODELS, backend: "native", threads: 1 } as const;

Deno.test("Detector finds the same plates in an image whatever input sizes it ran on before", async () => {
  const entry = await resolveModel(await loadManifest(), "plate_detect", {
    dir: TEST_MODELS,
  });
  assert.equal(typeof entry.input.dims[3], "string", "a free-size detector");
  const still = await decodeImageFile(
    `${SHARED_MEDIA}/stills/ro_dashcam/dayride_type1_001_t0056.jpg`,
  );
  // A tall crop and a small wide one: inputs of other sizes than the frame's.
  const tall = cropImage(still, [400, 0, 700, still.height]).image;
  const small = cropImage(still, [200, 300, 500, 420]).image;
  const images = [still, tall, still, small, tall, still];
  const used = await Detector.load(entry, load);
  try {
    const sizes = new Set(images.map((i) => JSON.stringify(used.inputSize(i))));
    assert.equal(sizes.size, 3);
    for (const [k, img] of images.entries()) {
      const fresh = await Detector.load(entry, load);
      try {
        assert.deepEqual(
          await used.detect(img),
          await fresh.detect(img),
          `image ${k}`,
        );
      } finally {
        await fresh.close();
      }
    }
    assert.ok((await used.detect(still)).length > 0, "the still has a plate");
  } finally {
    await used.close();
  }
});
