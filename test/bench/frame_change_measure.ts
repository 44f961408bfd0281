/**
 * Measures the frame-difference gate's inputs (see `src/vision/frame_change.ts`):
 * the largest grey-cell difference between consecutive 5 fps frames of the
 * media clips (real motion), and of stills looped into H.264 clips with and
 * without ffmpeg's temporal noise (nothing moves). Prints one line per input,
 * then how many frames the gate would process.
 *
 * `deno run -A test/bench/frame_change_measure.ts [SHARED_DIR]`
 *
 * @module
 */
import { join } from "node:path";
import {
  gateFrame,
  greyThumb,
  thumbDifference,
} from "../../src/vision/frame_change.ts";
import { decodeFrames } from "../../src/ingest/mod.ts";
import { decodePpm } from "../../src/shared/mod.ts";

const shared = Deno.args[0] ?? join(import.meta.dirname!, "../../../shared");
const FPS = 5;

async function measure(path: string) {
  const deltas: number[] = [];
  let prev = null;
  let state = null;
  let processed = 0;
  let frames = 0;
  for await (const f of decodeFrames(path, { fps: FPS })) {
    const thumb = greyThumb(decodePpm(f.ppm));
    if (prev) {
      deltas.push(thumbDifference(prev, thumb, { cellDelta: 255 }).maxDelta);
    }
    prev = thumb;
    const d = gateFrame(state, thumb);
    state = d.state;
    frames++;
    if (d.process) processed++;
  }
  deltas.sort((a, b) => a - b);
  return {
    frames,
    processed,
    minOfMax: deltas[0] ?? null,
    medianOfMax: deltas[deltas.length >> 1] ?? null,
    maxOfMax: deltas.at(-1) ?? null,
  };
}

async function ffmpeg(args: string[]) {
  const out = await new Deno.Command("ffmpeg", {
    args: ["-nostdin", "-loglevel", "error", "-y", ...args],
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
}

const tmp = await Deno.makeTempDir();
const clips = [
  "clips/uk_dashcam_junction.mp4",
  "clips/uk_roundabout_approach.mp4",
  "clips/in_convoy_portrait.mp4",
  "clips/us_dashcam_dusk_no_readable_plates.mp4",
  "clips/nl_tudelft/Video10_2.avi",
  "clips/nl_tudelft/Video47_2.avi",
  "clips/nl_tudelft/Video101_2.avi",
];
for (const c of clips) {
  console.log(c, JSON.stringify(await measure(join(shared, "media", c))));
}
for (
  const still of [
    "dayride_type1_001_t0607.jpg",
    "nightride_type3_001_t0001.jpg",
  ]
) {
  const src = join(shared, "media/stills/ro_dashcam", still);
  for (
    const [name, vf] of [["loop", "format=yuv420p"], [
      "noisy",
      "noise=alls=12:allf=t,format=yuv420p",
    ]]
  ) {
    const out = join(tmp, `${name}_${still}.mp4`);
    await ffmpeg([
      "-loop",
      "1",
      "-framerate",
      "30",
      "-t",
      "6",
      "-i",
      src,
      "-vf",
      vf,
      "-c:v",
      "libx264",
      "-crf",
      "23",
      "-preset",
      "fast",
      out,
    ]);
    console.log(`${name} ${still}`, JSON.stringify(await measure(out)));
  }
}
await Deno.remove(tmp, { recursive: true });
