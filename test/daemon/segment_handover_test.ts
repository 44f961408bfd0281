import assert from "node:assert/strict";
import type { DatabaseSync } from "node:sqlite";
import {
  applyClipPlan,
  planClipEvents,
  releaseHeldTracks,
} from "../../src/daemon/segment_handover.ts";
import {
  getVideo,
  listHeldTracks,
  registerVideo,
  setVideoStatus,
} from "../../src/graph/mod.ts";
import { CAMERA_DEFAULTS } from "../../src/config/mod.ts";
import type { FinalEvent } from "../../src/shared/mod.ts";
import { withGraphDb } from "../support/graph_db.ts";

const T0 = Date.parse("2026-06-01T11:00:00Z");
const SEGMENTS = CAMERA_DEFAULTS.segments;

function clip(
  db: DatabaseSync,
  id: string,
  startMs: number,
  chain: string | null = "van7/F",
) {
  registerVideo(db, {
    video_id: id,
    path: `/spool/${id}.mp4`,
    source_name: `${id}_F.MP4`,
    camera_id: "van7",
    chain_key: chain,
    start_time: new Date(startMs).toISOString(),
    duration_s: 6,
    sampling_fps: 5,
  }, { now: 0 });
  setVideoStatus(db, {
    videoId: id,
    status: "smoothing",
    framesTotal: 30,
    now: 0,
  });
}

/** A done summary task and its result, as the stages leave them. */
function summary(
  db: DatabaseSync,
  videoId: string,
  trackId: number,
  track: { text: string; first: number; last: number; best: number },
) {
  const event: FinalEvent = {
    eventKey: `${videoId}:${trackId}`,
    videoId,
    trackId,
    frameIdx: track.best,
    ts: new Date(T0).toISOString(),
    finalPlate: track.text,
    plateConfidence: 0.9,
    carBbox: [1, 2, 3, 4],
    plateBbox: [1, 2, 3, 4],
  };
  const r = db.prepare(
    `INSERT INTO tasks (category, payload, video_id, frame_idx, track_id, meta, dependencies, status)
     VALUES ('summary', '{"payload_ref":"video:x"}', ?, ?, ?, ?, '[]', 'done')`,
  ).run(
    videoId,
    track.best,
    trackId,
    JSON.stringify({
      support: 4,
      firstFrame: track.first,
      lastFrame: track.last,
    }),
  );
  db.prepare("INSERT INTO results (task_id, result, handled) VALUES (?, ?, 1)")
    .run(r.lastInsertRowid, JSON.stringify({ event }));
}

function memorySink() {
  const events = new Map<string, FinalEvent>();
  return {
    events,
    add(e: FinalEvent) {
      if (events.has(e.eventKey)) return false;
      events.set(e.eventKey, e);
      return true;
    },
  };
}

Deno.test("a power cut after the reports and before the hand-over commits repeats the same reports: exactly once", () => {
  withGraphDb((db) => {
    const sink = memorySink();
    clip(db, "a", T0);
    summary(db, "a", 1, { text: "LS15EBC", first: 2, last: 29, best: 20 });
    summary(db, "a", 2, { text: "AB12CDE", first: 0, last: 5, best: 3 });
    const planA = planClipEvents(db, {
      clip: getVideo(db, "a")!,
      segments: SEGMENTS,
      now: 1,
    });
    assert.deepEqual(planA.report.map((e) => e.eventKey), ["a:2"]);
    assert.equal(planA.report[0].clip, "a_F.MP4");
    assert.equal(planA.report[0].clipTimeS, 0.6);
    assert.equal(planA.report[0].camera, "van7");
    for (const e of planA.report) sink.add(e);
    applyClipPlan(db, planA);
    assert.deepEqual(listHeldTracks(db).map((h) => h.eventKey), ["a:1"]);

    clip(db, "b", T0 + 6000);
    summary(db, "b", 1, { text: "LS15EBC", first: 0, last: 8, best: 6 });
    const run = () =>
      planClipEvents(db, {
        clip: getVideo(db, "b")!,
        segments: SEGMENTS,
        now: 2,
      });
    const first = run();
    for (const e of first.report) sink.add(e); // ... and the power goes
    const second = run(); // the next start plans the clip again
    assert.deepEqual(second, first);
    for (const e of second.report) assert.equal(sink.add(e), false);
    applyClipPlan(db, second);
    assert.deepEqual(
      [...sink.events.values()].map((e) => [e.eventKey, e.finalPlate]).sort(),
      [["a:1", "LS15EBC"], ["a:2", "AB12CDE"]],
    );
    assert.equal(listHeldTracks(db).length, 0);
    assert.equal(sink.events.get("a:1")!.clip, "a_F.MP4"); // a tie keeps the first reading
  });
});

Deno.test("a clip with no start the camera wrote is reported whole, nothing held", () => {
  withGraphDb((db) => {
    clip(db, "m", T0, null);
    summary(db, "m", 1, { text: "LS15EBC", first: 2, last: 29, best: 20 });
    const plan = planClipEvents(db, {
      clip: getVideo(db, "m")!,
      segments: SEGMENTS,
      now: 1,
    });
    assert.deepEqual(plan.report.map((e) => e.eventKey), ["m:1"]);
    assert.deepEqual(plan.hold, []);
    assert.equal(plan.plates, 1);
  });
});

Deno.test("`releaseHeldTracks()` of some clips reports their held tracks once", () => {
  withGraphDb((db) => {
    const sink = memorySink();
    clip(db, "a", T0);
    summary(db, "a", 1, { text: "LS15EBC", first: 2, last: 29, best: 20 });
    applyClipPlan(
      db,
      planClipEvents(db, {
        clip: getVideo(db, "a")!,
        segments: SEGMENTS,
        now: 1,
      }),
    );
    assert.deepEqual(
      releaseHeldTracks(db, {
        sink,
        segments: SEGMENTS,
        now: 2,
        videoIds: ["zz"],
      }),
      [],
    );
    const out = releaseHeldTracks(db, {
      sink,
      segments: SEGMENTS,
      now: 2,
      videoIds: ["a"],
    });
    assert.deepEqual(out.map((e) => e.eventKey), ["a:1"]);
    assert.equal(listHeldTracks(db).length, 0);
    assert.equal(sink.events.size, 1);
  });
});
