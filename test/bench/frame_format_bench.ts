/**
 * Frame format on disk: raw RGB (binary PPM) against PNG and JPEG, write cost
 * (decoding the clip into files) and read cost (file back to RGB).
 *
 * @module
 */
import { join } from "node:path";
import { decodeImageFile } from "../../src/ingest/image_decode.ts";
import { decodeFrames } from "../../src/ingest/mod.ts";
import { decodePpm } from "../../src/shared/mod.ts";
import { SHARED_MEDIA } from "../support/shared.ts";
import { fmt, median, table } from "./_util.ts";

/** Runs the frame-format benchmark and prints its table. */
export async function frameFormatBench(): Promise<void> {
  const clip = `${SHARED_MEDIA}/clips/uk_dashcam_junction.mp4`;
  const dir = await Deno.makeTempDir();
  const rows = [[
    "format",
    "write ms/frame",
    "read ms/frame",
    "KiB/frame",
    "frames",
  ]];
  try {
    // PPM: our path (ffmpeg PPM stream → files).
    await Deno.mkdir(join(dir, "ppm"));
    let t0 = performance.now();
    let n = 0;
    let bytes = 0;
    for await (const f of decodeFrames(clip, { fps: 5 })) {
      await Deno.writeFile(
        join(dir, "ppm", `${String(f.index).padStart(6, "0")}.ppm`),
        f.ppm,
      );
      bytes += f.ppm.length;
      n++;
    }
    const ppmWrite = (performance.now() - t0) / n;
    const ppmRead: number[] = [];
    for (const e of Deno.readDirSync(join(dir, "ppm"))) {
      t0 = performance.now();
      decodePpm(await Deno.readFile(join(dir, "ppm", e.name)));
      ppmRead.push(performance.now() - t0);
    }
    rows.push([
      "raw RGB (binary PPM)",
      fmt(ppmWrite, 2),
      fmt(median(ppmRead), 2),
      fmt(bytes / n / 1024, 0),
      String(n),
    ]);
    for (
      const [name, ext, extra] of [["PNG", "png", []], ["JPEG q=2", "jpg", [
        "-q:v",
        "2",
      ]]] as const
    ) {
      await Deno.mkdir(join(dir, ext));
      t0 = performance.now();
      const out = await new Deno.Command("ffmpeg", {
        args: [
          "-loglevel",
          "error",
          "-i",
          clip,
          "-vf",
          "fps=5",
          ...extra,
          join(dir, ext, `%06d.${ext}`),
        ],
      }).output();
      if (!out.success) throw new Error(`ffmpeg ${ext} failed`);
      const files = [...Deno.readDirSync(join(dir, ext))];
      const write = (performance.now() - t0) / files.length;
      const read: number[] = [];
      let size = 0;
      for (const e of files) {
        size += (await Deno.stat(join(dir, ext, e.name))).size;
        t0 = performance.now();
        await decodeImageFile(join(dir, ext, e.name));
        read.push(performance.now() - t0);
      }
      rows.push([
        name,
        fmt(write, 2),
        fmt(median(read), 2),
        fmt(size / files.length / 1024, 0),
        String(files.length),
      ]);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  table(
    "Frame format (1280x720 dashcam clip, 5 fps; write = decode clip into files, read = file → RGB)",
    rows,
  );
}
