import assert from "node:assert/strict";
import {
  mergeTracks,
  type Track,
  type TrackObservation,
  trackPlates,
} from "../../src/vision/tracker.ts";

/**
 * A car 200x150 at (x, y) with its plate 60x15 near the bottom centre; the
 * read has every character at `conf`.
 */
function car(
  frameIdx: number,
  x: number,
  text: string,
  conf = 0.9,
  y = 300,
): TrackObservation {
  return {
    frameIdx,
    carBox: [x, y, x + 200, y + 150],
    plateBox: [x + 70, y + 110, x + 130, y + 125],
    read: {
      text,
      confidence: conf,
      charProbs: [...text].map(() => conf),
    },
    detScore: 0.8,
  };
}

/** Track contents as `frame:text` lists, for readable assertions. */
function summary(tracks: Track[]): string[][] {
  return tracks.map((t) =>
    t.observations.map((o) => `${o.frameIdx}:${o.read.text}`)
  );
}

/** Deterministic shuffle (linear congruential generator). */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) % 2147483648;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const frames = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

Deno.test("`trackPlates()` keeps two cars moving in parallel apart", () => {
  const obs = frames(0, 5).flatMap((f) => [
    car(f, 400 + 20 * f, "RK15YUH"),
    car(f, 100 + 20 * f, "PE63TVF"),
  ]);
  const tracks = trackPlates(obs);
  assert.deepEqual(tracks.map((t) => t.trackId), [1, 2]);
  // Track 1 is the left car (first in frame 0 by plate box).
  assert.deepEqual(summary(tracks), [
    frames(0, 5).map((f) => `${f}:PE63TVF`),
    frames(0, 5).map((f) => `${f}:RK15YUH`),
  ]);
});

Deno.test("`trackPlates()` keeps the id of a car occluded for 3 frames", () => {
  const obs = [
    ...[0, 1, 2, 6, 7].map((f) => car(f, 100 + 20 * f, "PE63TVF")),
    ...[4, 5, 6, 7].map((f) => car(f, 700, "RK15YUH")),
  ];
  const tracks = trackPlates(obs);
  assert.deepEqual(summary(tracks), [
    ["0:PE63TVF", "1:PE63TVF", "2:PE63TVF", "6:PE63TVF", "7:PE63TVF"],
    ["4:RK15YUH", "5:RK15YUH", "6:RK15YUH", "7:RK15YUH"],
  ]);
  // With a shorter gap and no merging, the occlusion splits the track.
  const split = trackPlates(obs, { maxGapFrames: 2, mergeMaxGapFrames: 0 });
  assert.deepEqual(summary(split), [
    ["0:PE63TVF", "1:PE63TVF", "2:PE63TVF"],
    ["4:RK15YUH", "5:RK15YUH", "6:RK15YUH", "7:RK15YUH"],
    ["6:PE63TVF", "7:PE63TVF"],
  ]);
  // With merging on, the same text joins the pieces again.
  assert.equal(trackPlates(obs, { maxGapFrames: 2 }).length, 2);
});

Deno.test("`trackPlates()` puts a misread frame on the right track", () => {
  const obs = frames(0, 5).flatMap((f) => [
    car(f, 100 + 20 * f, f === 3 ? "XK7" : "PE63TVF", f === 3 ? 0.4 : 0.9),
    car(f, 400 + 20 * f, "RK15YUH"),
  ]);
  const tracks = trackPlates(obs);
  assert.deepEqual(summary(tracks), [
    ["0:PE63TVF", "1:PE63TVF", "2:PE63TVF", "3:XK7", "4:PE63TVF", "5:PE63TVF"],
    frames(0, 5).map((f) => `${f}:RK15YUH`),
  ]);
});

Deno.test("`trackPlates()` joins a plate that reappears with the same text after a gap and a jump", () => {
  const obs = [
    ...[0, 1, 2].map((f) => car(f, 100, "PE63TVF")),
    ...[6, 7].map((f) => car(f, 900, "PE63TVF")),
  ];
  // Merging off: the association itself must join them.
  const tracks = trackPlates(obs, { mergeMaxGapFrames: 0 });
  assert.equal(tracks.length, 1);
  assert.deepEqual(
    tracks[0].observations.map((o) => o.frameIdx),
    [0, 1, 2, 6, 7],
  );
  // A different plate at the jumped place is another vehicle.
  const other = [
    ...[0, 1, 2].map((f) => car(f, 100, "PE63TVF")),
    ...[6, 7].map((f) => car(f, 900, "RK15YUH")),
  ];
  assert.equal(trackPlates(other).length, 2);
});

Deno.test("`trackPlates()` starts a new track when a clearly different plate takes the place", () => {
  const obs = [
    ...[0, 1, 2].map((f) => car(f, 100, "PE63TVF")),
    ...[4, 5].map((f) => car(f, 100, "RK15YUH")),
  ];
  assert.deepEqual(summary(trackPlates(obs)), [
    ["0:PE63TVF", "1:PE63TVF", "2:PE63TVF"],
    ["4:RK15YUH", "5:RK15YUH"],
  ]);
  // A weak read of a different text at the same place stays on the track.
  const weak = [
    ...[0, 1, 2].map((f) => car(f, 100, "PE63TVF")),
    car(3, 100, "RK15YUH", 0.5),
  ];
  assert.equal(trackPlates(weak).length, 1);
});

Deno.test("`trackPlates()` never puts two plates of one frame on one track", () => {
  const obs = [
    car(0, 100, "PE63TVF"),
    car(0, 100, "PE63TVF"),
    car(1, 100, "PE63TVF"),
  ];
  const tracks = trackPlates(obs);
  assert.equal(tracks.length, 2);
  for (const t of tracks) {
    const seen = t.observations.map((o) => o.frameIdx);
    assert.equal(new Set(seen).size, seen.length);
  }
  assert.deepEqual(
    tracks.map((t) => t.observations.length).sort(),
    [1, 2],
  );
});

Deno.test("`trackPlates()` gives the same tracks for shuffled input", () => {
  const obs = [
    ...[0, 1, 2, 6, 7, 8].map((f) =>
      car(f, 100 + 20 * f, f === 7 ? "PE63TUF" : "PE63TVF")
    ),
    ...frames(0, 8).map((f) => car(f, 420 + 15 * f, "RK15YUH", 0.85)),
    ...frames(3, 8).map((f) => car(f, 900 - 10 * f, "LS15EBC", 0.8, 100)),
    car(5, 50, "", 0),
  ];
  const expected = trackPlates(obs);
  assert.deepEqual(
    expected.map((t) => t.trackId),
    expected.map((_, i) => i + 1),
  );
  for (let seed = 1; seed <= 5; seed++) {
    assert.deepEqual(trackPlates(shuffled(obs, seed)), expected);
  }
  // Ids follow first appearance: the LS15EBC car enters at frame 3.
  assert.equal(expected[0].observations[0].read.text, "PE63TVF");
  assert.equal(expected[1].observations[0].read.text, "RK15YUH");
  assert.equal(expected[2].observations[0].read.text, "LS15EBC");
});

Deno.test("`trackPlates()` throws on a bad frame index or option", () => {
  assert.throws(() => trackPlates([car(-1, 0, "AB12CDE")]), RangeError);
  assert.throws(() => trackPlates([car(0.5, 0, "AB12CDE")]), RangeError);
  assert.throws(() => trackPlates([], { maxGapFrames: -1 }), RangeError);
  assert.throws(() => trackPlates([], { minIou: 2 }), RangeError);
  assert.deepEqual(trackPlates([]), []);
});

Deno.test("`mergeTracks()` merges same or one-off texts after a gap longer than maxGapFrames", () => {
  const before = [0, 1, 2].map((f) => car(f, 100, "PE63TVF"));
  const after = [18, 19].map((f) => car(f, 100, "PE63TVF"));
  // Tracking alone splits at a gap of 15 frames...
  assert.equal(
    trackPlates([...before, ...after], { mergeMaxGapFrames: 0 }).length,
    2,
  );
  // ...and the merge joins them (gap 15 <= 30).
  assert.equal(trackPlates([...before, ...after]).length, 1);

  const oneOff = mergeTracks([
    { trackId: 7, observations: before },
    {
      trackId: 3,
      observations: [18, 19].map((f) => car(f, 100, "PE63TUF")),
    },
  ]);
  assert.equal(oneOff.length, 1);
  assert.equal(oneOff[0].trackId, 1);
  assert.equal(oneOff[0].observations.length, 5);
});

Deno.test("`mergeTracks()` keeps tracks apart when texts, time or gap say so", () => {
  const a = [0, 1, 2].map((f) => car(f, 100, "PE63TVF"));
  // Three edits away.
  const far = mergeTracks([
    { trackId: 1, observations: a },
    { trackId: 2, observations: [5, 6].map((f) => car(f, 100, "PE68TUE")) },
  ]);
  assert.equal(far.length, 2);
  // Overlapping in time.
  const overlap = mergeTracks([
    { trackId: 1, observations: a },
    { trackId: 2, observations: [2, 3].map((f) => car(f, 500, "PE63TVF")) },
  ]);
  assert.equal(overlap.length, 2);
  // Gap of 40 frames > 30.
  const late = mergeTracks([
    { trackId: 1, observations: a },
    { trackId: 2, observations: [43].map((f) => car(f, 100, "PE63TVF")) },
  ]);
  assert.equal(late.length, 2);
  assert.equal(
    mergeTracks([
      { trackId: 1, observations: a },
      { trackId: 2, observations: [43].map((f) => car(f, 100, "PE63TVF")) },
    ], { mergeMaxGapFrames: 40 }).length,
    1,
  );
  // Texts shorter than 4 characters are no evidence.
  const short = mergeTracks([
    { trackId: 1, observations: [car(0, 100, "AB1")] },
    { trackId: 2, observations: [car(5, 100, "AB1")] },
  ]);
  assert.equal(short.length, 2);
});
