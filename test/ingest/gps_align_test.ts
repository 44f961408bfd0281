import assert from "node:assert/strict";
import { alignTrack, dropJumps } from "../../src/ingest/gps_align.ts";
import type { RawGpsTrack } from "../../src/ingest/gps_fix.ts";

const START = Date.UTC(2026, 6, 18, 7, 3, 30);

function raw(fixes: RawGpsTrack["fixes"]): RawGpsTrack {
  return { source: "test", fixes, skipped: { count: 0, reason: null } };
}

Deno.test("alignTrack() places camera-clock fixes by the clip's camera-clock start", () => {
  const t = alignTrack(
    raw(
      [0, 1, 2].map((i) => ({
        cameraMs: START + 1000 + i * 1000,
        lat: 52 + i * 1e-4,
        lon: 0,
      })),
    ),
    { startMs: START, startSource: "name", durationS: 10 },
  );
  assert.deepEqual(t.fixes.map((f) => f.t), [1, 2, 3]);
  assert.equal(t.alignment, "camera_clock");
});

Deno.test("alignTrack() takes the clip's true start from UTC fix times (camera clock an hour off)", () => {
  // BlackVue: [ms] prefix on the camera's local clock, RMC in UTC an hour earlier.
  const t = alignTrack(
    raw([0, 1, 2].map((i) => ({
      cameraMs: START + 1000 + i * 1000,
      utcMs: START - 3_600_000 + 1000 + i * 1000,
      lat: 52 + i * 1e-4,
      lon: 0,
    }))),
    { startMs: START, startSource: "name", durationS: 10 },
  );
  assert.equal(t.utcStartMs, START - 3_600_000);
});

Deno.test("alignTrack() drops fixes far outside the clip and says so", () => {
  const t = alignTrack(
    raw(
      [0, 1].map((i) => ({
        cameraMs: START + 86_400_000 + i * 1000,
        lat: 52,
        lon: 0,
      })),
    ),
    { startMs: START, startSource: "name", durationS: 10 },
  );
  assert.equal(t.fixes.length, 0);
  assert.match(t.notes.join("\n"), /outside the clip's time span/);
});

Deno.test("alignTrack() will not slide a track longer than the clip onto it", () => {
  const t = alignTrack(
    raw([0, 600].map((s) => ({ cameraMs: START + s * 1000, lat: 52, lon: 0 }))),
    { startMs: START, startSource: "mtime", durationS: 60 },
  );
  assert.equal(t.fixes.length, 0);
  assert.match(t.notes.join("\n"), /cannot be placed/);
});

Deno.test("alignTrack() with UTC-only fixes and a wrong camera clock starts the track with the clip", () => {
  const t = alignTrack(
    raw(
      [0, 1, 2].map((i) => ({
        utcMs: START + 5 * 86_400_000 + i * 1000,
        lat: 52,
        lon: 0,
      })),
    ),
    { startMs: START, startSource: "container", durationS: 3 },
  );
  assert.deepEqual(t.fixes.map((f) => f.t), [0, 1, 2]);
  assert.equal(t.utcStartMs, START + 5 * 86_400_000);
});

Deno.test("alignTrack() of a track with no fix says so", () => {
  const t = alignTrack(
    {
      source: "nmea:x",
      fixes: [],
      skipped: { count: 3, reason: "RMC status V (no fix)" },
    },
    { startMs: START, startSource: "name", durationS: 10 },
  );
  assert.equal(t.fixes.length, 0);
  assert.match(t.notes.join("\n"), /status V/);
  assert.match(t.notes.join("\n"), /no GPS fix/);
});

Deno.test("dropJumps() drops a bad fix in the middle, not its neighbours", () => {
  const fixes = [0, 1, 2, 3, 4].map((t) => ({ t, lat: 52 + t * 1e-4, lon: 0 }));
  fixes[2] = { t: 2, lat: 52.5, lon: 0 }; // 55 km away for one second
  const { kept, dropped } = dropJumps(fixes);
  assert.deepEqual(dropped.map((f) => f.t), [2]);
  assert.deepEqual(kept.map((f) => f.t), [0, 1, 3, 4]);
});

Deno.test("dropJumps() drops a bad first fix and keeps fast but possible driving", () => {
  // 130 km/h = 36 m/s: 0.000325 deg of latitude a second.
  const fixes = [0, 1, 2, 3].map((t) => ({
    t,
    lat: 52 + t * 0.000325,
    lon: 0,
  }));
  assert.equal(dropJumps(fixes).dropped.length, 0);
  fixes[0] = { t: 0, lat: 0.1, lon: 0.1 };
  assert.deepEqual(dropJumps(fixes).dropped.map((f) => f.t), [0]);
});

Deno.test("alignTrack() notes a jump", () => {
  const fixes = [0, 1, 2, 3].map((i) => ({
    cameraMs: START + i * 1000,
    lat: 52 + i * 1e-4,
    lon: 0,
  }));
  fixes[1] = { cameraMs: START + 1000, lat: 53, lon: 0 };
  const t = alignTrack(raw(fixes), {
    startMs: START,
    startSource: "name",
    durationS: 5,
  });
  assert.equal(t.fixes.length, 3);
  assert.match(t.notes.join("\n"), /jump/);
});
