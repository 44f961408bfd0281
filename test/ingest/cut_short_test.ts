import assert from "node:assert/strict";
import { cutShortNote, decodedFraction } from "../../src/ingest/cut_short.ts";

Deno.test("`cutShortNote()` names the decoded fraction of a clip cut short", () => {
  assert.equal(
    cutShortNote({ framesDecoded: 11, durationS: 4.672, fps: 5 }),
    "cut short: decoded 11 of 23 frames (47%)",
  );
  assert.equal(
    cutShortNote({ framesDecoded: 0, durationS: 60, fps: 2 }),
    "cut short: decoded 0 of 120 frames (0%)",
  );
});

Deno.test("`cutShortNote()` allows one second of slack (audio past the video, rounding)", () => {
  assert.equal(
    cutShortNote({ framesDecoded: 23, durationS: 4.672, fps: 5 }),
    null,
  );
  assert.equal(
    cutShortNote({ framesDecoded: 66, durationS: 13.11, fps: 5 }),
    null,
  );
  assert.equal(
    cutShortNote({ framesDecoded: 18, durationS: 4.672, fps: 5 }),
    null,
  );
  assert.match(
    cutShortNote({ framesDecoded: 17, durationS: 4.672, fps: 5 })!,
    /^cut short: decoded 17 of 23 frames/,
  );
  // At a low sampling rate, at least two frames.
  assert.equal(cutShortNote({ framesDecoded: 8, durationS: 10, fps: 1 }), null);
  assert.notEqual(
    cutShortNote({ framesDecoded: 7, durationS: 10, fps: 1 }),
    null,
  );
});

Deno.test("`cutShortNote()` says nothing when the duration or rate is unknown", () => {
  assert.equal(cutShortNote({ framesDecoded: 1, durationS: 0, fps: 5 }), null);
  assert.equal(
    cutShortNote({ framesDecoded: 1, durationS: NaN, fps: 5 }),
    null,
  );
  assert.equal(cutShortNote({ framesDecoded: 1, durationS: 10, fps: 0 }), null);
});

Deno.test("`decodedFraction()` is the share decoded of a clip cut short, and 1 for a whole one", () => {
  assert.equal(
    decodedFraction({ framesDecoded: 150, durationS: 60, fps: 5 }),
    0.5,
  );
  assert.equal(
    decodedFraction({ framesDecoded: 1, durationS: 60, fps: 5 }),
    0.003,
  );
  // Within the second of slack a clip is whole.
  assert.equal(
    decodedFraction({ framesDecoded: 296, durationS: 60, fps: 5 }),
    1,
  );
  assert.equal(decodedFraction({ framesDecoded: 10, durationS: 0, fps: 5 }), 1);
});
