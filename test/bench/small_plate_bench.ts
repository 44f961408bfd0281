/**
 * Small plates in large frames: the smallest plate width (source pixels)
 * that is read exactly at each frame size (720p to 2160p), and what the
 * second plate pass costs, for the whole-frame pass alone, with enlarged
 * vehicle crops (the default) and with a grid of tiles.
 *
 * Inputs are made with ffmpeg from dashcam stills with a known plate: the
 * still is scaled so that its plate is `w` px wide and laid on a grey canvas
 * of the frame size with the plate at the canvas's centre (a plate far
 * ahead in a large frame). Cost is counted in plate detector calls per
 * frame (the time per frame is printed too, but on a shared machine it is
 * noise).
 *
 * @module
 */
import { decodeImageFile } from "../../src/ingest/image_decode.ts";
import type { RgbImage } from "../../src/shared/mod.ts";
import { VEHICLE_CLASS_IDS } from "../../src/vision/assign.ts";
import { FrameReader } from "../../src/vision/frame_reader.ts";
import { applyFormatRules } from "../../src/vision/plate_format.ts";
import { readPlates } from "../../src/vision/plate_read.ts";
import { findPlates } from "../../src/vision/plate_search.ts";
import {
  loadGroundTruth,
  SHARED_MEDIA,
  TEST_MODELS,
} from "../support/shared.ts";
import { fmt, table } from "./_util.ts";

const SIZES: Array<[string, number, number]> = [
  ["720p", 1280, 720],
  ["1080p", 1920, 1080],
  ["1440p", 2560, 1440],
  ["2160p", 3840, 2160],
];
const WIDTHS = [40, 60, 80, 110];
const MODES = ["none", "crops", "tiles"] as const;
const STILLS = [
  "dayride_type1_001_t0056.jpg",
  "dayride_type1_001_t0087.jpg",
  "dayride_type1_001_t0282.jpg",
  "nightride_type3_001_t0001.jpg",
];

/**
 * Writes the still scaled by ffmpeg (area averaging down, bicubic up, as a
 * camera's own scaler would) so that its plate is `plateWidth` wide, on a
 * grey canvas of `size` with the plate at the centre, and decodes it.
 */
async function place(
  still: string,
  stillSize: { width: number; height: number },
  plate: [number, number, number, number],
  plateWidth: number,
  size: [number, number],
): Promise<RgbImage> {
  const s = plateWidth / (plate[2] - plate[0]);
  const sw = 2 * Math.round((stillSize.width * s) / 2);
  const sh = 2 * Math.round((stillSize.height * s) / 2);
  const [W, H] = size;
  const ox = Math.round(
    W / 2 - ((plate[0] + plate[2]) / 2) * (sw / stillSize.width),
  );
  const oy = Math.round(
    H / 2 - ((plate[1] + plate[3]) / 2) * (sh / stillSize.height),
  );
  const cx = Math.max(0, -ox);
  const cy = Math.max(0, -oy);
  const cw = Math.min(sw, W - ox) - cx;
  const ch = Math.min(sh, H - oy) - cy;
  const out = await Deno.makeTempFile({ suffix: ".png" });
  try {
    const cmd = await new Deno.Command("ffmpeg", {
      args: [
        "-nostdin",
        "-loglevel",
        "error",
        "-y",
        "-i",
        still,
        "-vf",
        `scale=${sw}:${sh}:flags=${s < 1 ? "area" : "bicubic"},` +
        `crop=${cw}:${ch}:${cx}:${cy},` +
        `pad=${W}:${H}:${Math.max(0, ox)}:${Math.max(0, oy)}:color=0x404040`,
        out,
      ],
      stderr: "piped",
    }).output();
    if (!cmd.success) throw new Error(new TextDecoder().decode(cmd.stderr));
    return await decodeImageFile(out);
  } finally {
    await Deno.remove(out);
  }
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
      path: `${SHARED_MEDIA}/stills/ro_dashcam/${name}`,
      size: await decodeImageFile(`${SHARED_MEDIA}/stills/ro_dashcam/${name}`),
    });
  }
  const reader = await FrameReader.open({
    modelsDir: TEST_MODELS,
    backend: "native",
    threads: 1,
  });
  const found: Record<string, number> = {};
  const calls: Record<string, number> = {};
  const ms: Record<string, number[]> = {};
  for (const [label, W, H] of SIZES) {
    for (const w of WIDTHS) {
      for (const input of inputs) {
        const img = await place(input.path, input.size, input.box, w, [W, H]);
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
