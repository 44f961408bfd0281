/**
 * Two-row plates: the row split and join (pure), and real two-row plates
 * built with ffmpeg from a one-row plate of a dashcam still (the "B 144"
 * half above "MOS"), read by the real OCR alone and by `FrameReader` in a
 * whole frame.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeImageFile } from "../../src/ingest/image_decode.ts";
import type { PlateRead } from "../../src/shared/mod.ts";
import { FrameReader } from "../../src/vision/frame_reader.ts";
import { findModel } from "../../src/vision/model_manifest.ts";
import { loadManifest } from "../../src/vision/model_store.ts";
import { PlateOcr } from "../../src/vision/models.ts";
import { readPlates } from "../../src/vision/plate_read.ts";
import {
  chooseRowsRead,
  joinRows,
  twoRowBoxes,
} from "../../src/vision/two_row.ts";
import { SHARED_MEDIA, TEST_MODELS } from "../support/shared.ts";

function read(text: string, p: number, pad = 10 - text.length): PlateRead {
  const slotTop: Array<Array<[string, number]>> = [...text].map((
    c,
  ) => [[c, p], ["_", 1 - p]]);
  for (let i = 0; i < pad; i++) slotTop.push([["_", 0.99], ["1", 0.01]]);
  return { text, confidence: p, charProbs: [...text].map(() => p), slotTop };
}

Deno.test("`twoRowBoxes()` splits square plates and leaves one-row plates alone", () => {
  assert.equal(twoRowBoxes([0, 0, 320, 156]), null); // a US plate, 2:1
  assert.equal(twoRowBoxes([0, 0, 520, 110]), null); // an EU plate
  const rows = twoRowBoxes([100, 100, 240, 200]); // 1.4:1
  assert.ok(rows);
  assert.deepEqual(rows[0], [100, 100, 240, 155]);
  assert.deepEqual(rows[1], [100, 145, 240, 200]);
});

Deno.test("`joinRows()` reads the top row first and keeps the whole crop's region", () => {
  const whole = { ...read("B12HDD", 0.73), region: "Romania", regionProb: 1 };
  const joined = joinRows(
    { ...read("B121", 0.99), region: "Latvia", regionProb: 0.8 },
    read("PHD", 0.9),
    whole,
  );
  assert.equal(joined.text, "B121PHD");
  assert.equal(joined.region, "Romania");
  assert.equal(joined.slotTop?.length, 10);
  assert.deepEqual(
    joined.slotTop?.slice(0, 7).map((s) => s[0][0]).join(""),
    "B121PHD",
  );
  assert.equal(chooseRowsRead(whole, joined).text, "B121PHD");
  // A sure whole read stays.
  assert.equal(
    chooseRowsRead(read("B121PHD", 0.97), read("B121PH", 0.95)).text,
    "B121PHD",
  );
});

async function ffmpeg(args: string[]): Promise<void> {
  const out = await new Deno.Command("ffmpeg", {
    args: ["-nostdin", "-loglevel", "error", "-y", ...args],
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(new TextDecoder().decode(out.stderr));
  }
}

/** "B 144" (x 597-681) above "MOS" (x 679-743) of dayride_type1_001_t0056.jpg's plate. */
const TWO_ROW =
  "[0]crop=84:48:597:404[t];[0]crop=64:48:679:404,pad=84:48:10:0:color=0xD8B8C8[b];[t][b]vstack";

/**
 * The same rows cut inside the plate's border, under one dark border: the
 * plate detector boxes only one row of it.
 */
const TWO_ROW_TIGHT =
  "[0]crop=82:38:600:409[t];[0]crop=62:38:679:409,pad=82:38:10:0:color=0xD0B0C0[b];[t][b]vstack,pad=90:84:4:4:color=0x303030";

Deno.test("`readPlates()` reads a real two-row plate as one plate, rows in order", async () => {
  const dir = await Deno.makeTempDir();
  const ocr = await PlateOcr.load(findModel(await loadManifest(), "ocr"), {
    modelsDir: TEST_MODELS,
    backend: "native",
    threads: 1,
  });
  try {
    const still =
      `${SHARED_MEDIA}/stills/ro_dashcam/dayride_type1_001_t0056.jpg`;
    const path = join(dir, "two_row.png");
    await ffmpeg(["-i", still, "-filter_complex", TWO_ROW, path]);
    const img = await decodeImageFile(path);
    const [r] = await readPlates(ocr, img, [[0, 0, img.width, img.height]]);
    assert.equal(r.read.text, "B144MOS");
  } finally {
    await ocr.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("`FrameReader.read()` reads a two-row plate on a car in a dashcam frame as one plate", async () => {
  const dir = await Deno.makeTempDir();
  const reader = await FrameReader.open({
    modelsDir: TEST_MODELS,
    backend: "native",
    threads: 1,
  });
  try {
    const still =
      `${SHARED_MEDIA}/stills/ro_dashcam/dayride_type1_001_t0056.jpg`;
    const path = join(dir, "frame.png");
    // The car's own plate covered by its two-row version, 1.6x larger.
    await ffmpeg([
      "-i",
      still,
      "-filter_complex",
      `${TWO_ROW_TIGHT},scale=134:125[p];[0][p]overlay=602:360`,
      path,
    ]);
    const plates = await reader.read(await decodeImageFile(path));
    assert.deepEqual(plates.map((p) => p.text), ["B144MOS"]);
  } finally {
    await reader.close();
    await Deno.remove(dir, { recursive: true });
  }
});
