/**
 * The OCR alone on the 40 OpenALPR US crops (real model, real images).
 */
import assert from "node:assert/strict";
import { decodeImageFile } from "../../src/ingest/image_decode.ts";
import { findModel } from "../../src/vision/model_manifest.ts";
import { loadManifest } from "../../src/vision/model_store.ts";
import { PlateOcr } from "../../src/vision/models.ts";
import { SHARED_MEDIA, TEST_MODELS } from "../support/shared.ts";

Deno.test("PlateOcr.read() reads at least 36 of the 40 US plate crops exactly", async () => {
  const dir = `${SHARED_MEDIA}/stills/us_plate_crops_openalpr`;
  const rows = (await Deno.readTextFile(`${dir}/groundtruth.csv`)).trim().split(
    "\n",
  )
    .map((l) => l.split(",")).filter((r) => r[0].endsWith(".png"));
  assert.equal(rows.length, 40);
  const manifest = await loadManifest();
  const ocr = await PlateOcr.load(findModel(manifest, "ocr"), {
    modelsDir: TEST_MODELS,
    backend: "native",
    threads: 1,
  });
  try {
    const wrong: string[] = [];
    for (const [file, , plate] of rows) {
      const img = await decodeImageFile(`${dir}/${file}`);
      const [r] = await ocr.read(img, [[0, 0, img.width, img.height]], {
        padFraction: 0,
      });
      assert.equal(r.read.region, "United States");
      if (r.read.text !== plate) {
        wrong.push(`${file}: ${r.read.text} != ${plate}`);
      }
    }
    assert.ok(wrong.length <= 4, wrong.join("; "));
  } finally {
    await ocr.close();
  }
});
