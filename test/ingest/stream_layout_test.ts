/**
 * Clips laid out as cameras and phones write them (issue 11 kind 1): a
 * display-rotated recording, variable frame rate, subtitle and data tracks.
 * Each input is built here with ffmpeg from ../shared/media.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeFrames } from "../../src/ingest/frames.ts";
import { decodePpm } from "../../src/shared/ppm.ts";
import { probeClip } from "../../src/ingest/probe.ts";
import { SHARED_MEDIA } from "../support/shared.ts";
import { ffmpeg } from "../support/clips.ts";

const PORTRAIT = `${SHARED_MEDIA}/clips/in_convoy_portrait.mp4`;
const ROUNDABOUT = `${SHARED_MEDIA}/clips/uk_roundabout_approach.mp4`;

async function frames(path: string, fps: number) {
  const out = [];
  for await (const f of decodeFrames(path, { fps })) out.push(decodePpm(f.ppm));
  return out;
}

/** Mean absolute difference of two same-size RGB images. */
function meanDiff(
  a: { data: Uint8Array },
  b: { data: Uint8Array },
): number {
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) {
    sum += Math.abs(a.data[i] - b.data[i]);
  }
  return sum / a.data.length;
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "stream_layout_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a clip stored sideways with a display rotation is probed and decoded upright", async () => {
  await withDir(async (dir) => {
    // The portrait recording stored as landscape pixels plus a display
    // matrix that turns it back (what phones and some mounts write).
    const sideways = join(dir, "sideways.mp4");
    const rotated = join(dir, "rotated.mp4");
    await ffmpeg([
      "-i",
      PORTRAIT,
      "-t",
      "1",
      "-vf",
      "transpose=2",
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      "-crf",
      "12",
      "-an",
      sideways,
    ]);
    await ffmpeg([
      "-i",
      sideways,
      "-c",
      "copy",
      "-metadata:s:v:0",
      "rotate=270",
      rotated,
    ]);
    const info = await probeClip(rotated);
    assert.equal(info.rotation, 90);
    assert.deepEqual([info.width, info.height], [404, 720]);
    const [upright] = await frames(rotated, 5);
    const [original] = await frames(PORTRAIT, 5);
    assert.deepEqual([upright.width, upright.height], [404, 720]);
    // Same picture as the original (up to re-encoding), unlike the same
    // frame turned upside down.
    const turned = new Uint8Array(upright.data.length);
    const px = upright.width * upright.height;
    for (let p = 0; p < px; p++) {
      turned.set(upright.data.subarray(p * 3, p * 3 + 3), (px - 1 - p) * 3);
    }
    assert.ok(
      meanDiff(upright, original) < 6,
      `diff ${meanDiff(upright, original)}`,
    );
    assert.ok(meanDiff({ data: turned }, original) > 20);
  });
});

Deno.test("a variable-frame-rate clip is sampled by presentation time, not by frame count", async () => {
  await withDir(async (dir) => {
    // 2 s of red at 5 fps, then 2 s of blue at 30 fps: 10 + 60 frames.
    const vfr = join(dir, "vfr.mp4");
    await ffmpeg([
      "-f",
      "lavfi",
      "-i",
      "color=red:s=64x64:r=5:d=2",
      "-f",
      "lavfi",
      "-i",
      "color=blue:s=64x64:r=30:d=2",
      "-filter_complex",
      "[0][1]concat=n=2:v=1[v]",
      "-map",
      "[v]",
      "-fps_mode",
      "vfr",
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      "-pix_fmt",
      "yuv420p",
      vfr,
    ]);
    const got = (await frames(vfr, 2)).map((f) =>
      f.data[0] > 128 && f.data[2] < 128
        ? "red"
        : f.data[2] > 128 && f.data[0] < 128
        ? "blue"
        : "?"
    );
    // Frame n is the picture at n / 2 s: by count (70 frames spread evenly)
    // red would end after frame 0.
    assert.deepEqual(got, [
      "red",
      "red",
      "red",
      "red",
      "blue",
      "blue",
      "blue",
      "blue",
    ]);
  });
});

Deno.test("subtitle and data tracks (first in the file) are ignored: the video decodes as without them", async () => {
  await withDir(async (dir) => {
    const srt = join(dir, "gps.srt");
    await Deno.writeTextFile(
      srt,
      "1\n00:00:00,000 --> 00:00:01,000\nGPS 51.5 -0.1 42km/h\n",
    );
    const plain = join(dir, "plain.mp4");
    const tracks = join(dir, "tracks.mp4");
    await ffmpeg([
      "-i",
      ROUNDABOUT,
      "-t",
      "1",
      "-map",
      "0:v",
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      plain,
    ]);
    await ffmpeg([
      "-i",
      srt,
      "-i",
      plain,
      "-map",
      "0:s",
      "-map",
      "1:v",
      "-c:s",
      "mov_text",
      "-c:v",
      "copy",
      "-timecode",
      "01:00:00:00",
      tracks,
    ]);
    const info = await probeClip(tracks);
    assert.equal(info.streamIndex, 1); // index 0 is the subtitle track
    const a = await frames(plain, 5);
    const b = await frames(tracks, 5);
    assert.equal(b.length, a.length);
    assert.equal(meanDiff(a[a.length - 1], b[b.length - 1]), 0);
  });
});
