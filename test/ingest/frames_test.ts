import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeFrames } from "../../src/ingest/frames.ts";
import { decodePpm, parsePpmHeader } from "../../src/shared/ppm.ts";
import { BadClipError, probeClip } from "../../src/ingest/probe.ts";
import { ffmpeg, makeTestClip } from "../support/clips.ts";
import { SHARED_MEDIA } from "../support/shared.ts";

/** A real 1280x720 H.264 clip (not one of ../shared/cases). */
const ROUNDABOUT = `${SHARED_MEDIA}/clips/uk_roundabout_approach.mp4`;

/** Decodes every sampled frame of `path` at 5 fps. */
async function decodeAll(path: string) {
  const frames = [];
  for await (const f of decodeFrames(path, { fps: 5 })) frames.push(f);
  return frames;
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "frames_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("`decodeFrames()` samples a 2 s 25 fps clip at 5 fps into 10 frames", async () => {
  await withTempDir(async (dir) => {
    const clip = await makeTestClip(dir, "clip.mp4", {
      durationS: 2,
      size: "160x120",
    });
    const frames = [];
    for await (const f of decodeFrames(clip, { fps: 5 })) frames.push(f);
    assert.equal(frames.length, 10); // 2 s * 5 fps
    assert.deepEqual(
      frames.map((f) => f.index),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    for (const f of frames) {
      assert.equal(f.width, 160);
      assert.equal(f.height, 120);
      // "P6\n160 120\n255\n" is 15 bytes, then 160 * 120 * 3 pixel bytes.
      assert.equal(f.ppm.length, 15 + 160 * 120 * 3);
      const image = decodePpm(f.ppm);
      assert.equal(image.data.length, 57_600);
    }
    // testsrc moves: consecutive samples are different pictures.
    assert.notDeepEqual(frames[0].ppm, frames[1].ppm);
  });
});

Deno.test("`decodeFrames()` with reuseBuffer yields every frame whole when yielded", async () => {
  await withTempDir(async (dir) => {
    // Frames larger than a pipe read: one push completes one frame at most.
    const clip = await makeTestClip(dir, "clip.mp4", {
      durationS: 2,
      size: "640x360",
    });
    const fresh = [];
    for await (const f of decodeFrames(clip, { fps: 5 })) {
      fresh.push(f.ppm);
    }
    let i = 0;
    for await (
      const f of decodeFrames(clip, { fps: 5, reuseBuffer: true })
    ) {
      assert.deepEqual(f.ppm, fresh[i++], `frame ${f.index}`);
    }
    assert.equal(i, 10);
    // That they share one buffer: ppm_stream_test.ts.
  });
});

Deno.test("`decodeFrames()` throws BadClipError naming a file that is not a video", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "notes.mp4");
    await Deno.writeTextFile(path, "this is a text file, not a video\n");
    await assert.rejects(
      async () => {
        for await (const _ of decodeFrames(path, { fps: 5 })) {
          // no frames expected
        }
      },
      (err: unknown) => {
        assert.ok(err instanceof BadClipError, `BadClipError, got ${err}`);
        assert.ok(
          err.message.startsWith(`Cannot use clip ${JSON.stringify(path)}: `),
          err.message,
        );
        assert.equal(err.message.includes("\n"), false);
        return true;
      },
    );
  });
});

Deno.test("`decodeFrames()` decodes 10-bit clips (H.264 High 10, HEVC Main 10) to 8-bit RGB", async () => {
  await withTempDir(async (dir) => {
    for (
      const [name, codec] of [
        ["high10.mp4", ["-c:v", "libx264", "-preset", "ultrafast"]],
        ["main10.mp4", [
          "-c:v",
          "libx265",
          "-preset",
          "ultrafast",
          "-x265-params",
          "log-level=error",
        ]],
      ] as const
    ) {
      const clip = join(dir, name);
      await ffmpeg([
        "-i",
        ROUNDABOUT,
        "-t",
        "1",
        "-an",
        "-vf",
        "scale=320:180",
        "-pix_fmt",
        "yuv420p10le",
        ...codec,
        clip,
      ]);
      const frames = await decodeAll(clip);
      assert.equal(frames.length, 5, name); // 1 s * 5 fps
      for (const f of frames) {
        assert.equal(f.width, 320, name);
        assert.equal(f.height, 180, name);
        const h = parsePpmHeader(f.ppm)!;
        assert.equal(f.ppm.length, h.dataOffset + 320 * 180 * 3, name);
        const image = decodePpm(f.ppm);
        // A road scene: neither black nor white on average.
        const mean = image.data.reduce((a, b) => a + b, 0) / image.data.length;
        assert.ok(mean > 30 && mean < 225, `${name}: mean ${mean}`);
      }
    }
  });
});

Deno.test("`probeClip()` and `decodeFrames()` take the recording, not a thumbnail track before it", async () => {
  await withTempDir(async (dir) => {
    const thumb = join(dir, "thumb.jpg");
    await ffmpeg([
      "-ss",
      "1",
      "-i",
      ROUNDABOUT,
      "-frames:v",
      "1",
      "-vf",
      "scale=192:108",
      thumb,
    ]);
    const cut = join(dir, "cut.mp4");
    await ffmpeg(["-i", ROUNDABOUT, "-t", "2", "-c", "copy", cut]);
    // As a plain first video track (the camera's own layout), with the
    // timecode data tracks some cameras add.
    const thumbFirst = join(dir, "thumb_first.mp4");
    await ffmpeg([
      "-i",
      thumb,
      "-i",
      cut,
      "-map",
      "0:v",
      "-map",
      "1:v",
      "-map",
      "1:a",
      "-c",
      "copy",
      "-timecode",
      "10:15:00:00",
      thumbFirst,
    ]);
    // The thumbnail flagged as the default stream, and a subtitle track
    // (speed and GPS, as some cameras write) after the recording.
    const srt = join(dir, "gps.srt");
    await Deno.writeTextFile(
      srt,
      "1\n00:00:00,000 --> 00:00:02,000\n52 km/h N53.4 W3.0\n",
    );
    const defaultThumb = join(dir, "default_thumb.mp4");
    await ffmpeg([
      "-i",
      thumb,
      "-i",
      cut,
      "-i",
      srt,
      "-map",
      "0:v",
      "-map",
      "1:v",
      "-map",
      "2",
      "-c",
      "copy",
      "-c:s",
      "mov_text",
      "-disposition:v:0",
      "default",
      "-disposition:v:1",
      "0",
      defaultThumb,
    ]);
    for (const clip of [thumbFirst, defaultThumb]) {
      const info = await probeClip(clip);
      assert.equal(info.streamIndex, 1, clip);
      assert.equal(info.width, 1280, clip);
      assert.equal(info.height, 720, clip);
      assert.equal(info.fps, 30, clip);
      const frames = await decodeAll(clip);
      assert.ok(
        frames.length >= 9 && frames.length <= 11,
        `${clip}: ${frames.length}`,
      ); // ~2 s * 5 fps
      for (const f of frames) {
        assert.equal(f.width, 1280, clip);
        assert.equal(f.height, 720, clip);
      }
    }
  });
});
