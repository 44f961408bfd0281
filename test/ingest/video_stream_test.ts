import assert from "node:assert/strict";
import {
  chooseVideoStream,
  type ProbeStream,
} from "../../src/ingest/video_stream.ts";

/** An ffprobe-like video stream entry. */
function video(
  index: number,
  fields: Partial<ProbeStream> = {},
  disposition: Record<string, number> = {},
): ProbeStream {
  return {
    index,
    codec_type: "video",
    codec_name: "h264",
    width: 1280,
    height: 720,
    nb_frames: "300",
    duration: "10.0",
    disposition: {
      default: 0,
      attached_pic: 0,
      still_image: 0,
      ...disposition,
    },
    ...fields,
  };
}

const AUDIO: ProbeStream = {
  index: 0,
  codec_type: "audio",
  nb_frames: "9000",
  duration: "60",
  disposition: { default: 1 },
};
const DATA: ProbeStream = { index: 5, codec_type: "data", duration: "60" };
const SUBS: ProbeStream = { index: 6, codec_type: "subtitle", duration: "60" };

Deno.test("`chooseVideoStream()` skips a one-frame thumbnail track written first", () => {
  const thumb = video(0, {
    codec_name: "mjpeg",
    width: 384,
    height: 216,
    nb_frames: "1",
    duration: "0.04",
  });
  const rec = video(1, { nb_frames: "122", duration: "4.07" }, { default: 1 });
  assert.equal(chooseVideoStream([thumb, rec, AUDIO]), rec);
  // Even when the camera marks the thumbnail as the default stream.
  const defaultThumb = video(0, { nb_frames: "1" }, { default: 1 });
  const plainRec = video(1);
  assert.equal(chooseVideoStream([defaultThumb, plainRec]), plainRec);
});

Deno.test("`chooseVideoStream()` skips an attached picture (cover art) and a still image", () => {
  const cover = video(0, { nb_frames: "500" }, { attached_pic: 1, default: 1 });
  const still = video(1, { nb_frames: undefined }, { still_image: 1 });
  const rec = video(2, { nb_frames: "300" });
  assert.equal(chooseVideoStream([cover, still, rec]), rec);
});

Deno.test("`chooseVideoStream()` prefers the default stream, then most frames, then longest, then lowest index", () => {
  const a = video(1, { nb_frames: "100" });
  const b = video(2, { nb_frames: "900" });
  const c = video(3, { nb_frames: "50" }, { default: 1 });
  assert.equal(chooseVideoStream([a, b, c]), c);
  assert.equal(chooseVideoStream([a, b]), b);
  // MKV and TS give no nb_frames: the duration decides.
  const short = video(1, { nb_frames: undefined, duration: "3" });
  const long = video(2, { nb_frames: undefined, duration: "60" });
  assert.equal(chooseVideoStream([short, long]), long);
  const twin = video(3, { nb_frames: undefined, duration: "60" });
  assert.equal(chooseVideoStream([twin, long]), long);
});

Deno.test("`chooseVideoStream()` ignores audio, data and subtitle tracks", () => {
  const rec = video(1);
  assert.equal(chooseVideoStream([AUDIO, rec, DATA, SUBS]), rec);
  assert.equal(chooseVideoStream([AUDIO, DATA, SUBS]), null);
});

Deno.test("`chooseVideoStream()` returns null without a sized video stream; a lone cover is still a picture", () => {
  assert.equal(chooseVideoStream([]), null);
  assert.equal(chooseVideoStream([video(0, { width: 0 })]), null);
  const cover = video(0, { nb_frames: "1" }, { attached_pic: 1 });
  assert.equal(chooseVideoStream([AUDIO, cover]), cover);
});
