import assert from "node:assert/strict";
import type { DatabaseSync } from "node:sqlite";
import {
  deleteHeldTracks,
  expiredHeldTracks,
  type HeldTrack,
  heldTracksBefore,
  listHeldTracks,
  putHeldTracks,
  registerVideo,
  setVideoStatus,
  unfinishedPredecessor,
} from "../../src/graph/mod.ts";
import { withGraphDb } from "../support/graph_db.ts";

const T0 = Date.parse("2026-03-15T08:15:02Z");

function held(key: string, endMs: number, heldAt: number): HeldTrack {
  return {
    eventKey: key,
    chainKey: "van12/F",
    videoId: key.split(":")[0],
    endMs,
    text: "PE63TVF",
    support: 3,
    event: {
      eventKey: key,
      videoId: key.split(":")[0],
      trackId: 1,
      frameIdx: 3,
      ts: new Date(T0).toISOString(),
      finalPlate: "PE63TVF",
      plateConfidence: 0.9,
      carBbox: [0, 0, 1, 1],
      plateBbox: [0, 0, 1, 1],
    },
    heldAt,
    segments: 1,
  };
}

function clipRow(
  db: DatabaseSync,
  id: string,
  startMs: number,
  chain = "van12/F",
) {
  registerVideo(db, {
    video_id: id,
    path: `/sd/${id}.mp4`,
    start_time: new Date(startMs).toISOString(),
    duration_s: 6,
    chain_key: chain,
  }, { now: 0 });
}

Deno.test("held tracks are kept, found by the next segment's start, replaced and deleted", () => {
  withGraphDb((db) => {
    putHeldTracks(db, [held("a:1", T0 + 6000, 10)]);
    const near = heldTracksBefore(db, {
      chainKey: "van12/F",
      startMs: T0 + 6900,
      gapS: 2,
      videoId: "b",
    });
    assert.deepEqual(near.map((h) => h.eventKey), ["a:1"]);
    assert.deepEqual(near[0].event.carBbox, [0, 0, 1, 1]);
    assert.equal(
      heldTracksBefore(db, {
        chainKey: "van12/R",
        startMs: T0 + 6000,
        gapS: 2,
        videoId: "b",
      }).length,
      0,
    );
    assert.equal(
      heldTracksBefore(db, {
        chainKey: "van12/F",
        startMs: T0 + 9000,
        gapS: 2,
        videoId: "b",
      }).length,
      0,
    );
    putHeldTracks(db, [{
      ...held("a:1", T0 + 12000, 20),
      videoId: "b",
      segments: 2,
    }]);
    assert.deepEqual(
      listHeldTracks(db).map((h) => [h.eventKey, h.videoId, h.segments]),
      [["a:1", "b", 2]],
    );
    deleteHeldTracks(db, ["a:1"]);
    assert.equal(listHeldTracks(db).length, 0);
  });
});

Deno.test("`expiredHeldTracks()` waits hold_s, and longer while the next segment is being processed", () => {
  withGraphDb((db) => {
    putHeldTracks(db, [held("a:1", T0 + 6000, 1000)]);
    const at = (now: number) =>
      expiredHeldTracks(db, { now, holdS: 600, gapS: 2 }).map((h) =>
        h.eventKey
      );
    assert.deepEqual(at(1000 + 599_000), []);
    assert.deepEqual(at(1000 + 600_000), ["a:1"]);
    clipRow(db, "b", T0 + 6000); // the next segment arrived: keep waiting
    assert.deepEqual(at(1000 + 900_000), []);
    setVideoStatus(db, { videoId: "b", status: "failed", now: 1 });
    assert.deepEqual(at(1000 + 900_000), ["a:1"]);
  });
});

Deno.test("`unfinishedPredecessor()` finds the unfinished segment of the same camera that ends where a clip starts", () => {
  withGraphDb((db) => {
    clipRow(db, "a", T0);
    clipRow(db, "b", T0 + 6000);
    clipRow(db, "r", T0, "van12/R");
    clipRow(db, "z", T0 + 6000, "van12/R"); // rear of the same time: r is its predecessor
    const row = (id: string) =>
      db.prepare("SELECT * FROM video_metadata WHERE video_id = ?").get(
        id,
      ) as never;
    assert.equal(unfinishedPredecessor(db, { clip: row("b"), gapS: 2 }), "a");
    assert.equal(unfinishedPredecessor(db, { clip: row("a"), gapS: 2 }), null);
    assert.equal(unfinishedPredecessor(db, { clip: row("z"), gapS: 2 }), "r");
    setVideoStatus(db, { videoId: "a", status: "done", now: 1 });
    assert.equal(unfinishedPredecessor(db, { clip: row("b"), gapS: 2 }), null);
    // Two clips of one start never wait for each other (no deadlock).
    clipRow(db, "c1", T0 + 60_000);
    clipRow(db, "c2", T0 + 60_000);
    assert.equal(
      unfinishedPredecessor(db, { clip: row("c1"), gapS: 10 }),
      null,
    );
    assert.equal(
      unfinishedPredecessor(db, { clip: row("c2"), gapS: 10 }),
      null,
    );
  });
});
