import assert from "node:assert/strict";
import {
  type HeldTrack,
  isContiguous,
  planSegmentEvents,
  type SegmentClip,
  type SegmentTrack,
} from "../../src/graph/segment_chain.ts";
import type { FinalEvent } from "../../src/shared/mod.ts";

const RULES = { gapS: 2, edgeS: 3 };
const T0 = Date.parse("2026-03-15T08:15:02Z");

function event(videoId: string, trackId: number, plate: string, conf = 0.9) {
  return {
    eventKey: `${videoId}:${trackId}`,
    videoId,
    trackId,
    frameIdx: 0,
    ts: new Date(T0).toISOString(),
    finalPlate: plate,
    plateConfidence: conf,
    carBbox: [0, 0, 100, 100],
    plateBbox: [10, 10, 40, 20],
  } satisfies FinalEvent;
}

function track(
  videoId: string,
  trackId: number,
  plate: string,
  span: [number, number],
  support = 5,
): SegmentTrack {
  return {
    event: event(videoId, trackId, plate),
    firstS: span[0],
    lastS: span[1],
    support,
  };
}

function clip(videoId: string, index: number): SegmentClip {
  return {
    videoId,
    chainKey: "cam/F",
    startMs: T0 + index * 6000,
    endS: 5.8,
    durationS: 6,
  };
}

/** Runs segments through the plan like the daemon does, returning reported keys and plates. */
function drive(segments: Array<{ clip: SegmentClip; tracks: SegmentTrack[] }>) {
  let held: HeldTrack[] = [];
  const reported: FinalEvent[] = [];
  for (const s of segments) {
    const plan = planSegmentEvents(s.clip, {
      tracks: s.tracks,
      held: held.filter((h) =>
        h.chainKey === s.clip.chainKey &&
        isContiguous(h.endMs, s.clip.startMs, RULES.gapS)
      ),
    }, { rules: RULES, now: 0 });
    reported.push(...plan.report);
    held = held.filter((h) => !plan.settle.includes(h.eventKey));
    held.push(...plan.hold);
  }
  reported.push(...held.map((h) => h.event)); // the end of `process`
  return reported;
}

Deno.test("`planSegmentEvents()`: two cars across three segments are two events (the split_segments kind)", () => {
  const got = drive([
    {
      clip: clip("a", 0),
      tracks: [
        track("a", 1, "PE63TVF", [0, 5.8]),
        track("a", 2, "RK15YUH", [0, 5.8]),
      ],
    },
    {
      clip: clip("b", 1),
      tracks: [
        track("b", 1, "PE63TVF", [0, 5.8]),
        track("b", 2, "RK15YUH", [0, 2.4]),
      ],
    },
    { clip: clip("c", 2), tracks: [track("c", 1, "PE63TVF", [0, 1.0])] },
  ]);
  assert.deepEqual(
    got.map((e) => [e.eventKey, e.finalPlate]).sort(),
    [["a:1", "PE63TVF"], ["a:2", "RK15YUH"]],
  );
});

Deno.test("`planSegmentEvents()` holds only tracks at a segment's end and reports the others at once", () => {
  const plan = planSegmentEvents(clip("a", 0), {
    tracks: [
      track("a", 1, "AB12CDE", [0, 1.5]), // left the view early
      track("a", 2, "XY34ZZZ", [1, 5.6]), // in view at the cut
    ],
    held: [],
  }, { rules: RULES, now: 42 });
  assert.deepEqual(plan.report.map((e) => e.eventKey), ["a:1"]);
  assert.deepEqual(plan.hold.map((h) => [h.eventKey, h.heldAt]), [["a:2", 42]]);
});

Deno.test("`planSegmentEvents()` continues only a track that starts at the next segment's head with agreeing text", () => {
  const held: HeldTrack = {
    eventKey: "a:2",
    chainKey: "cam/F",
    videoId: "a",
    endMs: T0 + 6000,
    text: "XY34ZZZ",
    support: 4,
    event: event("a", 2, "XY34ZZZ"),
    heldAt: 0,
    segments: 1,
  };
  const minute = { ...clip("b", 1), endS: 59.8, durationS: 60 };
  const plan = planSegmentEvents(minute, {
    tracks: [
      track("b", 1, "XY34ZZZ", [20, 25]), // same text but appears late: another pass
      track("b", 2, "QQ99QQQ", [0, 1.0]), // at the head, other text
    ],
    held: [held],
  }, { rules: RULES, now: 0 });
  assert.deepEqual(
    plan.report.map((e) => e.eventKey).sort(),
    ["a:2", "b:1", "b:2"],
  );
  assert.deepEqual(plan.settle, ["a:2"]);
  assert.deepEqual(plan.hold, []);
});

Deno.test("`planSegmentEvents()` keeps the chain head's key and the best-supported reading (one character apart)", () => {
  const held: HeldTrack = {
    eventKey: "a:2",
    chainKey: "cam/F",
    videoId: "a",
    endMs: T0 + 6000,
    text: "XY34ZZ2",
    support: 2,
    event: event("a", 2, "XY34ZZ2"),
    heldAt: 0,
    segments: 1,
  };
  const plan = planSegmentEvents(clip("b", 1), {
    tracks: [track("b", 7, "XY34ZZZ", [0, 2], 9)],
    held: [held],
  }, { rules: RULES, now: 0 });
  assert.equal(plan.report.length, 1);
  assert.equal(plan.report[0].eventKey, "a:2");
  assert.equal(plan.report[0].finalPlate, "XY34ZZZ");
  assert.equal(plan.report[0].videoId, "b"); // where the best reading is
});

Deno.test("`planSegmentEvents()` pairs each held track with one track: two cars with close plates stay two", () => {
  const mk = (key: string, text: string): HeldTrack => ({
    eventKey: key,
    chainKey: "cam/F",
    videoId: "a",
    endMs: T0 + 6000,
    text,
    support: 3,
    event: event("a", Number(key.split(":")[1]), text),
    heldAt: 0,
    segments: 1,
  });
  const plan = planSegmentEvents(clip("b", 1), {
    tracks: [
      track("b", 1, "AB12CDF", [0, 1]),
      track("b", 2, "AB12CDE", [0, 1]),
    ],
    held: [mk("a:1", "AB12CDE"), mk("a:2", "AB12CDF")],
  }, { rules: RULES, now: 0 });
  const byKey = Object.fromEntries(
    plan.report.map((e) => [e.eventKey, e.finalPlate]),
  );
  assert.deepEqual(byKey, { "a:1": "AB12CDE", "a:2": "AB12CDF" });
});

Deno.test("`isContiguous()` allows the gap tolerance either way", () => {
  assert.equal(isContiguous(T0 + 6006, T0 + 6000, 2), true);
  assert.equal(isContiguous(T0 + 6000, T0 + 7900, 2), true);
  assert.equal(isContiguous(T0 + 6000, T0 + 8100, 2), false);
  assert.equal(isContiguous(T0 + 6000, T0 + 3000, 2), false);
});
