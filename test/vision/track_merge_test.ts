import assert from "node:assert/strict";
import type { Box } from "../../src/shared/mod.ts";
import { type FramePlateRead, smoothClip } from "../../src/vision/smooth.ts";
import { mergeOverlappingTracks } from "../../src/vision/track_merge.ts";
import {
  type TrackObservation,
  trackPlates,
} from "../../src/vision/tracker.ts";

function obs(frameIdx: number, box: Box, text: string): TrackObservation {
  return {
    frameIdx,
    plateBox: box,
    carBox: null,
    detScore: 0.5,
    read: {
      text,
      confidence: 0.95,
      charProbs: [...text].map(() => 0.95),
    },
  };
}

/** One plate moving right, seen as two boxes (a duplicate) in every frame from 3 on. */
function doubledPlate(): FramePlateRead[] {
  const reads: FramePlateRead[] = [];
  for (let f = 0; f < 10; f++) {
    const x = 1800 + 10 * f;
    const boxes: Box[] = [[x, 1500, x + 150, 1550]];
    if (f >= 3) boxes.push([x - 17, 1483, x + 139, 1533]);
    for (const plateBox of boxes) {
      reads.push({
        frameIdx: f,
        plateBox,
        carBox: [0, 0, 3840, 2160],
        carFound: false,
        detScore: 0.5,
        read: {
          text: "LS15EBC",
          confidence: 0.97,
          charProbs: [...Array(7)].map(() => 0.97),
        },
      });
    }
  }
  return reads;
}

Deno.test("a duplicate box of one plate in every frame starts a parallel track that the tracker keeps", () => {
  // The failure `mergeOverlappingTracks()` exists for.
  const tracks = trackPlates(
    doubledPlate().map((r) => ({
      frameIdx: r.frameIdx,
      plateBox: r.plateBox,
      carBox: null,
      read: r.read,
      detScore: r.detScore,
    })),
  );
  assert.equal(tracks.length, 2);
});

Deno.test("`smoothClip()` reports one event for one plate seen with a duplicate box in many frames", () => {
  const plates = smoothClip(doubledPlate());
  assert.deepEqual(plates.map((p) => p.text), ["LS15EBC"]);
  assert.equal(plates[0].reads, 10);
});

Deno.test("`mergeOverlappingTracks()` never merges two plates seen apart in one frame", () => {
  // Two cars with plates one character apart, side by side.
  const a = [0, 1, 2].map((f) => obs(f, [100, 100, 200, 130], "AB12CDE"));
  const b = [0, 1, 2].map((f) => obs(f, [400, 100, 500, 130], "AB12CDF"));
  const merged = mergeOverlappingTracks([
    { trackId: 1, observations: a },
    { trackId: 2, observations: b },
  ]);
  assert.equal(merged.length, 2);
});

Deno.test("`mergeOverlappingTracks()` keeps tracks with different texts apart and one observation per frame when merging", () => {
  const a = [0, 1, 2, 3].map((f) => obs(f, [100, 100, 200, 130], "AB12CDE"));
  const b = [2, 3, 4].map((f) => obs(f, [105, 102, 198, 128], "AB12CDE"));
  const c = [2, 3].map((f) => obs(f, [105, 102, 198, 128], "XY99ZZZ"));
  const merged = mergeOverlappingTracks([
    { trackId: 1, observations: a },
    { trackId: 2, observations: b },
    { trackId: 3, observations: c },
  ]);
  assert.equal(merged.length, 2);
  assert.deepEqual(merged[0].observations.map((o) => o.frameIdx), [
    0,
    1,
    2,
    3,
    4,
  ]);
  assert.equal(merged[1].observations[0].read.text, "XY99ZZZ");
  assert.deepEqual(merged.map((t) => t.trackId), [1, 2]);
});

Deno.test("`smoothClip()` reports no plate seen only at the frame's side, and keeps one also seen whole", () => {
  const reads = (atEdge: (f: number) => boolean): FramePlateRead[] =>
    [0, 1, 2, 3].map((f) => ({
      frameIdx: f,
      plateBox: [0 + f, 316, 201 + f, 379],
      carBox: [0, 200, 384, 465],
      carFound: true,
      detScore: 0.9,
      atEdge: atEdge(f),
      // A cut Dutch plate that fits a German format.
      read: {
        text: "SSB233",
        confidence: 0.9,
        charProbs: [...Array(6)].map(() => 0.9),
        region: "Germany",
        regionProb: 0.88,
      },
    }));
  assert.deepEqual(smoothClip(reads(() => true)), []);
  assert.equal(smoothClip(reads((f) => f < 2)).length, 1);
});
