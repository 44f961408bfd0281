import assert from "node:assert/strict";
import {
  decodeArgs,
  decodeThreads,
  probeArgs,
} from "../../src/ingest/ffmpeg_args.ts";

Deno.test("`probeArgs()` asks ffprobe for JSON of the format and every video stream", () => {
  assert.deepEqual(probeArgs("/sd/a b.mp4"), [
    "-v",
    "error",
    "-print_format",
    "json",
    "-show_format",
    "-show_streams",
    "-select_streams",
    "v",
    "file:/sd/a b.mp4",
  ]);
});

Deno.test("`probeArgs()` and `decodeArgs()` pass paths as file: inputs (dash, colon)", () => {
  assert.equal(probeArgs("-rf.mp4").at(-1), "file:-rf.mp4");
  const args = decodeArgs("/sd/12:00:00.mp4", { fps: 5, streamIndex: 0 });
  assert.equal(args[args.indexOf("-i") + 1], "file:/sd/12:00:00.mp4");
});

Deno.test("`decodeArgs()` decodes the chosen video stream to an 8-bit RGB PPM pipe at the sampling rate", () => {
  assert.deepEqual(decodeArgs("/sd/clip.mp4", { fps: 5, streamIndex: 1 }), [
    "-nostdin",
    "-hide_banner",
    "-loglevel",
    "error",
    "-threads",
    "0",
    "-i",
    "file:/sd/clip.mp4",
    "-map",
    "0:1",
    "-an",
    "-sn",
    "-dn",
    "-vf",
    "fps=5",
    "-pix_fmt",
    "rgb24",
    "-f",
    "image2pipe",
    "-c:v",
    "ppm",
    "pipe:1",
  ]);
});

Deno.test("`decodeArgs()` writes fractional rates as they are", () => {
  const args = decodeArgs("a.mp4", { fps: 0.5, streamIndex: 0 });
  assert.equal(args[args.indexOf("-vf") + 1], "fps=0.5");
  const args2 = decodeArgs("a.mp4", { fps: 12.5, streamIndex: 0 });
  assert.equal(args2[args2.indexOf("-vf") + 1], "fps=12.5");
});

Deno.test("`decodeArgs()` throws RangeError when fps is not > 0", () => {
  for (const fps of [0, -1, NaN]) {
    assert.throws(
      () => decodeArgs("a.mp4", { fps, streamIndex: 0 }),
      (err: unknown) =>
        err instanceof RangeError &&
        err.message ===
          `Cannot decode as 'fps' must be > 0: current value is ${fps}`,
      `fps ${fps}`,
    );
  }
});

Deno.test("`decodeArgs()` throws RangeError when streamIndex is not an index", () => {
  for (const streamIndex of [-1, 1.5, NaN]) {
    assert.throws(
      () => decodeArgs("a.mp4", { fps: 5, streamIndex }),
      (err: unknown) =>
        err instanceof RangeError &&
        err.message ===
          `Cannot decode as 'streamIndex' must be an integer >= 0: current value is ${streamIndex}`,
      `streamIndex ${streamIndex}`,
    );
  }
});

Deno.test("`decodeArgs()` sets the decoder threads before the input and refuses a bad count", () => {
  const args = decodeArgs("a.mp4", { fps: 5, streamIndex: 0, threads: 1 });
  assert.equal(args[args.indexOf("-threads") + 1], "1");
  assert.ok(args.indexOf("-threads") < args.indexOf("-i"));
  assert.throws(
    () => decodeArgs("a.mp4", { fps: 5, streamIndex: 0, threads: -1 }),
    RangeError,
  );
});

Deno.test("`decodeThreads()` takes the setting, else half the cores and at least one", () => {
  assert.equal(decodeThreads(3, { cores: 2 }), 3);
  assert.equal(decodeThreads(0, { cores: 8 }), 0);
  assert.equal(decodeThreads(null, { cores: 1 }), 1);
  assert.equal(decodeThreads(null, { cores: 2 }), 1);
  assert.equal(decodeThreads(null, { cores: 6 }), 3);
});
