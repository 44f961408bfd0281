/**
 * Small plates in large frames: the smallest plate width (source pixels)
 * that is read exactly at each frame size (720p to 2160p), and what the
 * second plate pass costs, for the whole-frame pass alone, with enlarged
 * vehicle crops (the default) and with a grid of tiles.
 *
 * Inputs are made in-process from dashcam stills with a known plate: the
 * still is scaled so that its plate is `w` px wide and laid on a grey canvas
 * of the frame size with the plate at the canvas's centre (a plate far
 * ahead in a large frame).
 *
 * @module
 */
import { decodeImageFile } from "../../src/ingest/image_decode.ts";
import type { RgbImage } from "../../src/shared/mod.ts";
import { VEHICLE_CLASS_IDS } from "../../src/vision/assign.ts";
import { FrameReader } from "../../src/vision/frame_reader.ts";
import { resizeBilinear } from "../../src/vision/image_ops.ts";
import { applyFormatRules } from "../../src/vision/plate_format.ts";
import { readPlates } from "../../src/vision/plate_read.ts";
import { findPlates } from "../../src/vision/plate_search.ts";
import {
  loadGroundTruth,
  SHARED_MEDIA,
  SHARED_MODELS,
} from "../support/shared.ts";
import { fmt, table } from "./_util.ts";

const SIZES: Array<[string, number, number]> = [
  ["720p", 1280, 720],
  ["1080p", 1920, 1080],
  ["1440p", 2560, 1440],
  ["2160p", 3840, 2160],
];
const WIDTHS = [30, 45, 60, 80, 110];
const MODES = ["none", "crops", "tiles"] as const;
const STILLS = [
  "dayride_type1_001_t0056.jpg",
  "dayride_type1_001_t0087.jpg",
  "dayride_type1_001_t0282.jpg",
  "dayride_type1_002_t0817.jpg",
  "nightride_type3_001_t0001.jpg",
];

/** The still scaled so its plate is `plateWidth` wide, centred on a canvas. */
function place(
  still: RgbImage,
  plate: [number, number, number, number],
  plateWidth: number,
  size: [number, number],
): RgbImage {
  const s = plateWidth / (plate[2] - plate[0]);
  const scaled = resizeBilinear(still, {
    width: Math.max(1, Math.round(still.width * s)),
    height: Math.max(1, Math.round(still.height * s)),
  });
  const [W, H] = size;
  const data = new Uint8Array(W * H * 3).fill(64);
  const cx = ((plate[0] + plate[2]) / 2) * s;
  const cy = ((plate[1] + plate[3]) / 2) * s;
  const ox = Math.round(W / 2 - cx);
  const oy = Math.round(H / 2 - cy);
  for (let y = 0; y < scaled.height; y++) {
    const ty = y + oy;
    if (ty < 0 || ty >= H) continue;
    const x0 = Math.max(0, -ox);
    const x1 = Math.min(scaled.width, W - ox);
    if (x1 <= x0) continue;
    data.set(
      scaled.data.subarray(
        (y * scaled.width + x0) * 3,
        (y * scaled.width + x1) * 3,
      ),
      ((ty * W) + x0 + ox) * 3,
    );
  }
  return { width: W, height: H, data };
}

/** Runs the measurement and prints its tables. */
export async function smallPlateBench(): Promise<void> {
  const truth = await loadGroundTruth();
  const inputs = [];
  for (const name of STILLS) {
    const t = truth.find((f) => f.file.endsWith(name))!;
    const p = t.plates.find((x) => !x.hard && x.box)!;
    inputs.push({
      text: p.text,
      box: p.box!,
      img: await decodeImageFile(`${SHARED_MEDIA}/stills/ro_dashcam/${name}`),
    });
  }
  const reader = await FrameReader.open({
    modelsDir: SHARED_MODELS,
    backend: "native",
    threads: 1,
  });
  const found: Record<string, number> = {};
  const calls: Record<string, number> = {};
  const ms: Record<string, number[]> = {};
  for (const [label, W, H] of SIZES) {
    for (const w of WIDTHS) {
      for (const input of inputs) {
        const img = place(input.img, input.box, w, [W, H]);
        const vehicles = await reader.vehicles.detect(img, {
          classIds: [...VEHICLE_CLASS_IDS],
        });
        for (const mode of MODES) {
          const key = `${label}|${w}|${mode}`;
          const t0 = performance.now();
          const f = await findPlates(reader.plates, img, {
            vehicles,
            secondPass: mode,
          });
          const reads = await readPlates(
            reader.ocr,
            img,
            f.plates.map((p) => p.box),
          );
          (ms[`${label}|${mode}`] ??= []).push(performance.now() - t0);
          calls[`${label}|${mode}`] = (calls[`${label}|${mode}`] ?? 0) + 1 +
            f.secondPassCalls;
          const hit = reads.some((r) => {
            const read = applyFormatRules(r.read);
            return read.text === input.text && read.confidence >= 0.6;
          });
          found[key] = (found[key] ?? 0) + (hit ? 1 : 0);
        }
      }
    }
  }
  await reader.close();
  const n = inputs.length;
  const runs = WIDTHS.length * n;
  const rows = [[
    "frame",
    "second pass",
    ...WIDTHS.map((w) => `plate ${w} px`),
    "smallest width read in all stills",
    "detector calls per frame",
    "ms per frame (detect + OCR)",
  ]];
  for (const [label] of SIZES) {
    for (const mode of MODES) {
      const smallest = WIDTHS.find((w) =>
        WIDTHS.filter((v) => v >= w).every((v) =>
          found[`${label}|${v}|${mode}`] === n
        )
      );
      const times = ms[`${label}|${mode}`];
      rows.push([
        label,
        mode,
        ...WIDTHS.map((w) => `${found[`${label}|${w}|${mode}`]}/${n}`),
        smallest === undefined ? `> ${WIDTHS.at(-1)}` : `${smallest}`,
        fmt(calls[`${label}|${mode}`] / runs, 2),
        fmt(times.reduce((a, b) => a + b, 0) / times.length, 0),
      ]);
    }
  }
  table(
    `Small plates: plates read exactly out of ${n} stills, by plate width in source pixels (plate at the frame's centre on grey)`,
    rows,
  );
}

if (import.meta.main) await smallPlateBench();
