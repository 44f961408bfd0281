import assert from "node:assert/strict";
import { join } from "node:path";
import {
  BadClipError,
  type ClipInfo,
  clipStartTime,
  parseProbe,
  probeClip,
} from "../../src/ingest/probe.ts";
import { SHARED_MEDIA } from "../support/shared.ts";

const ROUNDABOUT = `${SHARED_MEDIA}/clips/uk_roundabout_approach.mp4`;

/** ffprobe output of a typical 1080p dashcam clip, written by hand. */
function probeJson(
  video: Record<string, unknown> = {},
  format: Record<string, unknown> = {},
): unknown {
  return {
    streams: [
      { index: 0, codec_type: "audio", sample_rate: "48000" },
      {
        index: 1,
        codec_type: "video",
        codec_name: "h264",
        width: 1920,
        height: 1080,
        r_frame_rate: "30000/1001",
        avg_frame_rate: "30000/1001",
        duration: "59.993267",
        ...video,
      },
    ],
    format: { duration: "60.060000", ...format },
  };
}

function assertBadClip(fn: () => unknown, path: string, reason: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof BadClipError, `BadClipError, got ${err}`);
    assert.equal(
      err.message,
      `Cannot use clip ${JSON.stringify(path)}: ${reason}`,
    );
    return true;
  });
}

Deno.test("`parseProbe()` reads size, duration and an NTSC frame rate", () => {
  const info = parseProbe("a.mp4", probeJson());
  assert.equal(info.width, 1920);
  assert.equal(info.height, 1080);
  assert.equal(info.durationS, 60.06); // the container's, not the stream's
  assert.equal(info.fps, 30000 / 1001);
  assert.equal(info.creationTime, null);
  assert.equal(info.streamIndex, 1);
});

Deno.test("`parseProbe()` describes the recording, not a thumbnail track before it", () => {
  const info = parseProbe("a.mp4", {
    streams: [
      {
        index: 0,
        codec_type: "video",
        codec_name: "mjpeg",
        width: 384,
        height: 216,
        r_frame_rate: "90000/1",
        avg_frame_rate: "25/1",
        nb_frames: "1",
        duration: "0.040000",
        disposition: { default: 0, attached_pic: 0 },
      },
      {
        index: 1,
        codec_type: "video",
        codec_name: "h264",
        width: 1280,
        height: 720,
        r_frame_rate: "30000/1001",
        avg_frame_rate: "30000/1001",
        nb_frames: "122",
        duration: "4.070733",
        disposition: { default: 1, attached_pic: 0 },
      },
    ],
    format: { duration: "4.07" },
  });
  assert.equal(info.streamIndex, 1);
  assert.equal(info.width, 1280);
  assert.equal(info.height, 720);
  assert.equal(info.fps, 30000 / 1001);
});

Deno.test("`parseProbe()` falls back to r_frame_rate and the stream duration", () => {
  const info = parseProbe(
    "a.mp4",
    probeJson(
      { avg_frame_rate: "0/0", r_frame_rate: "25/1", duration: "4.5" },
      {
        duration: undefined,
      },
    ),
  );
  assert.equal(info.fps, 25);
  assert.equal(info.durationS, 4.5);
  const plain = parseProbe("a.mp4", probeJson({ avg_frame_rate: "24" }));
  assert.equal(plain.fps, 24);
  const none = parseProbe(
    "a.mp4",
    probeJson({
      avg_frame_rate: "0/0",
      r_frame_rate: undefined,
      duration: undefined,
    }, {
      duration: undefined,
    }),
  );
  assert.equal(none.fps, 0);
  assert.equal(none.durationS, 0);
});

Deno.test("`parseProbe()` reads creation_time, the stream's tag over the format's", () => {
  const fromFormat = parseProbe(
    "a.mp4",
    probeJson({}, { tags: { creation_time: "2023-11-24T15:30:12.000000Z" } }),
  );
  assert.equal(fromFormat.creationTime, "2023-11-24T15:30:12.000Z");
  const both = parseProbe(
    "a.mp4",
    probeJson(
      { tags: { creation_time: "2023-11-24T15:31:00.000000Z" } },
      { tags: { creation_time: "2016-02-22T07:18:18.000000Z" } },
    ),
  );
  assert.equal(both.creationTime, "2023-11-24T15:31:00.000Z");
});

Deno.test("`parseProbe()` ignores the 1970 and 2000 stamps of cameras without a clock", () => {
  for (
    const stamp of [
      "1970-01-01T00:00:00.000000Z",
      "2000-01-01T00:00:00.000000Z",
      "not a date",
      "",
    ]
  ) {
    const info = parseProbe(
      "a.mp4",
      probeJson({}, { tags: { creation_time: stamp } }),
    );
    assert.equal(info.creationTime, null, stamp);
  }
});

Deno.test("`parseProbe()` throws BadClipError without a video stream", () => {
  assertBadClip(
    () =>
      parseProbe("/sd/audio.mp4", {
        streams: [{ codec_type: "audio" }],
        format: { duration: "3" },
      }),
    "/sd/audio.mp4",
    "no video stream",
  );
  assertBadClip(() => parseProbe("x.mp4", {}), "x.mp4", "no video stream");
  assertBadClip(
    () => parseProbe("x.mp4", probeJson({ width: 0 })),
    "x.mp4",
    "no video stream",
  );
});

Deno.test("`probeClip()` describes a real 720p clip", async () => {
  const info = await probeClip(ROUNDABOUT);
  assert.equal(info.width, 1280);
  assert.equal(info.height, 720);
  assert.equal(info.fps, 30);
  assert.ok(Math.abs(info.durationS - 4.67) < 0.01, `${info.durationS}`);
  // The file's video stream is tagged 2020-09-20T20:29:39, its container
  // 2016-02-22T07:18:18 (ffprobe); the stream's tag wins.
  assert.equal(info.creationTime, "2020-09-20T20:29:39.000Z");
});

Deno.test("`probeClip()` throws BadClipError naming a missing or non-video file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "probe_test_" });
  try {
    const missing = join(dir, "absent.mp4");
    await assert.rejects(
      () => probeClip(missing),
      (err: unknown) =>
        err instanceof BadClipError &&
        err.message.startsWith(`Cannot use clip ${JSON.stringify(missing)}: `),
    );
    const text = join(dir, "notes.mp4");
    await Deno.writeTextFile(text, "hello\n");
    await assert.rejects(
      () => probeClip(text),
      (err: unknown) =>
        err instanceof BadClipError &&
        err.message.startsWith(`Cannot use clip ${JSON.stringify(text)}: `) &&
        !err.message.includes("\n"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("`clipStartTime()` prefers the container, then the name, then mtime minus duration", async () => {
  const dir = await Deno.makeTempDir({ prefix: "probe_test_" });
  try {
    const path = join(dir, "20231124_153012.mp4");
    await Deno.writeTextFile(path, "x");
    const mtime = new Date("2024-05-01T10:00:30.000Z");
    await Deno.utime(path, mtime, mtime);
    const info: ClipInfo = {
      durationS: 30,
      fps: 30,
      width: 1,
      height: 1,
      creationTime: "2022-01-02T03:04:05.000Z",
      streamIndex: 0,
      rotation: 0,
      streamStartS: 0,
    };
    assert.deepEqual(await clipStartTime(path, info), {
      startTime: "2022-01-02T03:04:05.000Z",
      source: "container",
    });
    const untagged = { ...info, creationTime: null };
    assert.deepEqual(await clipStartTime(path, untagged), {
      startTime: "2023-11-24T15:30:12.000Z",
      source: "name",
    });
    const spooled = join(dir, "spool-0001.mp4");
    await Deno.writeTextFile(spooled, "x");
    await Deno.utime(spooled, mtime, mtime);
    assert.deepEqual(
      await clipStartTime(spooled, untagged, {
        originalName: "/media/sd/20231124_153012.mp4",
      }),
      { startTime: "2023-11-24T15:30:12.000Z", source: "name" },
    );
    assert.deepEqual(await clipStartTime(spooled, untagged), {
      startTime: "2024-05-01T10:00:00.000Z", // mtime is the clip's end
      source: "mtime",
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("`parseProbe()` gives the displayed size of a rotated stream, and the stream's start", () => {
  const side = parseProbe(
    "a.mp4",
    probeJson({
      side_data_list: [{ side_data_type: "Display Matrix", rotation: -90 }],
      start_time: "0.500000",
    }, { start_time: "0.000000" }),
  );
  assert.deepEqual([side.width, side.height, side.rotation], [1080, 1920, 90]);
  assert.equal(side.streamStartS, 0.5);
  const tag = parseProbe("a.mp4", probeJson({ tags: { rotate: "180" } }));
  assert.deepEqual([tag.width, tag.height, tag.rotation], [1920, 1080, 180]);
  const ccw = parseProbe(
    "a.mp4",
    probeJson({
      side_data_list: [{ side_data_type: "Display Matrix", rotation: 90 }],
    }),
  );
  assert.equal(ccw.rotation, 270);
});

Deno.test("`clipStartTime()` reads names and a local creation_time in the camera's zone", async () => {
  const dir = await Deno.makeTempDir({ prefix: "probe_test_" });
  try {
    const path = join(dir, "2026_0715_081502_F.MP4");
    await Deno.writeTextFile(path, "x");
    const info: ClipInfo = {
      durationS: 60,
      fps: 30,
      width: 1,
      height: 1,
      creationTime: null,
      streamIndex: 0,
      rotation: 0,
      streamStartS: 0,
    };
    const london = { timeZone: "Europe/London" };
    assert.deepEqual(await clipStartTime(path, info, london), {
      startTime: "2026-07-15T07:15:02.000Z",
      source: "name",
    });
    const tagged = { ...info, creationTime: "2026-07-15T08:15:02.000Z" };
    assert.equal(
      (await clipStartTime(path, tagged, { ...london, creationTime: "local" }))
        .startTime,
      "2026-07-15T07:15:02.000Z",
    );
    assert.equal(
      (await clipStartTime(path, tagged, { ...london, creationTime: "utc" }))
        .startTime,
      "2026-07-15T08:15:02.000Z",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
