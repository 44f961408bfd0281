/**
 * Acceptance: for each GPS sample in `../shared/media/gps/` the product's
 * fixes agree with `expected.json` (ExifTool 12.57's output for the files it
 * reads, the independent text parse for the sidecars), with times on the
 * right clock and speeds in km/h.
 */
import assert from "node:assert/strict";
import { SHARED_MEDIA } from "../support/shared.ts";
import { runExiftool } from "../../src/ingest/exiftool.ts";
import {
  fixesFromExiftool,
  parseExifDate,
} from "../../src/ingest/exiftool_gps.ts";
import { parseNmea } from "../../src/ingest/nmea.ts";
import { parseR50Log } from "../../src/ingest/r50_log.ts";
import { readClipGps } from "../../src/ingest/gps_track.ts";
import type { RawGpsFix } from "../../src/ingest/gps_fix.ts";

const DIR = `${SHARED_MEDIA}/gps`;

interface Expected {
  file: string;
  fixes: number;
  first: { utc: string; lat: number; lon: number } | null;
  last: { utc: string; lat: number; lon: number } | null;
  speed?: { first: Record<string, number>; last: Record<string, number> };
  independent_parse_not_exiftool?: {
    fixes: number;
    first: Record<string, unknown>;
    last: Record<string, unknown>;
    clip_window_20240113175633_163s?: {
      fixes: number;
      first: Record<string, unknown>;
      last: Record<string, unknown>;
    };
  };
}

const expected = JSON.parse(
  await Deno.readTextFile(`${DIR}/expected.json`),
) as { files: Expected[] };
const byFile = new Map(expected.files.map((f) => [f.file, f]));

function fixTime(f: RawGpsFix): number | undefined {
  return f.utcMs ?? f.cameraMs;
}

for (const exp of expected.files) {
  Deno.test(`exiftool fixes of ${exp.file} agree with expected.json`, async () => {
    const record = await runExiftool(`${DIR}/${exp.file}`);
    const track = fixesFromExiftool(record);
    assert.equal(track.fixes.length, exp.fixes);
    if (exp.first === null || exp.last === null) return;
    const first = track.fixes[0]!;
    const last = track.fixes[track.fixes.length - 1]!;
    assert.equal(first.lat, exp.first.lat);
    assert.equal(first.lon, exp.first.lon);
    assert.equal(last.lat, exp.last.lat);
    assert.equal(last.lon, exp.last.lon);
    assert.equal(fixTime(first), parseExifDate(exp.first.utc));
    assert.equal(fixTime(last), parseExifDate(exp.last.utc));
  });
}

Deno.test("GoPro times are UTC and Novatek 'Z' times are the camera clock", async () => {
  for (
    const name of [
      "gopro_max_heromode_gpmf_gps5.mp4",
      "gopro_hero5_karma_gpmf_glpi.mp4",
    ]
  ) {
    const t = fixesFromExiftool(await runExiftool(`${DIR}/${name}`));
    assert.ok(
      t.fixes.every((f) => f.utcMs !== undefined && f.cameraMs === undefined),
      name,
    );
    assert.ok(t.fixes.every((f) => f.clipS !== undefined), name);
  }
  const nova = fixesFromExiftool(
    await runExiftool(`${DIR}/viofo_a119v3_novatek_ts_anon.ts`),
  );
  assert.ok(
    nova.fixes.every((f) => f.cameraMs !== undefined && f.utcMs === undefined),
  );
});

Deno.test("speeds are normalised to km/h per format", async () => {
  const gps5 = byFile.get("gopro_max_heromode_gpmf_gps5.mp4")!;
  const t1 = fixesFromExiftool(await runExiftool(`${DIR}/${gps5.file}`));
  assert.ok(
    Math.abs(t1.fixes[0]!.speedKmh! - gps5.speed!.first.GPSSpeed! * 3.6) < 1e-9,
  );
  const karma = byFile.get("gopro_hero5_karma_gpmf_glpi.mp4")!;
  const t2 = fixesFromExiftool(await runExiftool(`${DIR}/${karma.file}`));
  const { GPSSpeedX: vx, GPSSpeedY: vy } = karma.speed!.first;
  assert.ok(
    Math.abs(t2.fixes[0]!.speedKmh! - Math.hypot(vx!, vy!) * 3.6) < 1e-9,
  );
  const nova = byFile.get("viofo_a119v3_novatek_ts_anon.ts")!;
  const t3 = fixesFromExiftool(await runExiftool(`${DIR}/${nova.file}`));
  assert.equal(t3.fixes.at(-1)!.speedKmh, nova.speed!.last.GPSSpeed);
});

Deno.test("the BlackVue .gps sidecar: RMC times are UTC, the [ms] prefix is the camera clock, knots become km/h", async () => {
  const exp = byFile.get("blackvue_dr550dw_nmea_anon.gps")!
    .independent_parse_not_exiftool!;
  const text = await Deno.readTextFile(`${DIR}/blackvue_dr550dw_nmea_anon.gps`);
  const t = parseNmea(text, { source: "blackvue.gps" });
  assert.equal(t.fixes.length, exp.fixes);
  const first = t.fixes[0]!;
  const last = t.fixes.at(-1)!;
  assert.equal(first.utcMs, Date.parse(String(exp.first.rmc_utc)));
  assert.equal(last.utcMs, Date.parse(String(exp.last.rmc_utc)));
  assert.equal(first.cameraMs, exp.first.unix_ms);
  assert.equal(first.lat, exp.first.lat);
  assert.equal(first.lon, exp.first.lon);
  assert.ok(
    Math.abs(first.speedKmh! - Number(exp.first.speed_knots) * 1.852) < 1e-9,
  );
  assert.ok(
    Math.abs(last.speedKmh! - Number(exp.last.speed_knots) * 1.852) < 1e-9,
  );
});

Deno.test("the R50 daily log: every fix, and the clip's window by its camera-clock name", async () => {
  const exp = byFile.get("kaiserbass_r50_gpslog_20240113.dat")!
    .independent_parse_not_exiftool!;
  const text = await Deno.readTextFile(
    `${DIR}/kaiserbass_r50_gpslog_20240113.dat`,
  );
  const t = parseR50Log(text, { source: "20240113.dat" });
  assert.equal(t.fixes.length, exp.fixes);
  assert.ok(Math.abs(t.fixes[0]!.lat - Number(exp.first.lat)) < 1e-6);
  assert.ok(Math.abs(t.fixes[0]!.lon - Number(exp.first.lon)) < 1e-6);
  assert.ok(Math.abs(t.fixes.at(-1)!.lat - Number(exp.last.lat)) < 1e-6);
  // The clip's sidecar lookup: YYYYMMDD.dat in ../gps/ beside the clip folder.
  const root = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${root}/100video`);
    await Deno.mkdir(`${root}/gps`);
    await Deno.copyFile(
      `${DIR}/kaiserbass_r50_gpslog_20240113.dat`,
      `${root}/gps/20240113.dat`,
    );
    const clip = `${root}/100video/20240113175633_163.MP4`;
    await Deno.copyFile(`${DIR}/kaiserbass_r50_clip_20240113175633.mp4`, clip);
    const { track } = await readClipGps(clip, {
      timing: {
        startMs: Date.UTC(2024, 0, 13, 17, 56, 33),
        startSource: "name",
        durationS: 163.134,
      },
    });
    const win = exp.clip_window_20240113175633_163s!;
    assert.ok(track);
    // Fixes inside the clip (0 to 163 s) are the window's; 2 s of slack on
    // either side are kept for interpolation at the edges.
    assert.equal(
      track.fixes.filter((f) => f.t >= 0 && f.t <= 163.134).length,
      win.fixes,
    );
    const atStart = track.fixes.find((f) => f.t === 0)!;
    assert.ok(Math.abs(atStart.lat - Number(win.first.lat)) < 1e-6);
    const atEnd = track.fixes.find((f) => f.t === 163)!;
    assert.ok(Math.abs(atEnd.lon - Number(win.last.lon)) < 1e-6);
    assert.equal(track.utcStartMs, null); // camera clock: no true UTC
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("readClipGps: GoPro clip gives a UTC start from GPSU, Novatek clip none", async () => {
  const gp = await readClipGps(`${DIR}/gopro_max_heromode_gpmf_gps5.mp4`, {
    timing: {
      startMs: Date.UTC(2019, 10, 18, 15, 45, 32),
      startSource: "container",
      durationS: 10.517,
    },
  });
  assert.ok(gp.track);
  assert.equal(gp.track.fixes.length, 11);
  assert.equal(gp.track.alignment, "clip_time");
  // Median of GPSU - SampleTime: 23:45:15.4xx UTC, 8 h after the PST CreateDate.
  const start = gp.track.utcStartMs!;
  assert.ok(
    Math.abs(start - Date.UTC(2019, 10, 18, 23, 45, 15, 440)) < 100,
    new Date(start).toISOString(),
  );
  const nova = await readClipGps(`${DIR}/viofo_a119v3_novatek_ts_anon.ts`, {
    timing: {
      startMs: Date.UTC(2026, 0, 1),
      startSource: "mtime",
      durationS: 9.9,
    },
  });
  assert.ok(nova.track);
  assert.equal(nova.track.utcStartMs, null);
  assert.deepEqual(nova.track.fixes.map((f) => f.t), [
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
  ]);
});

Deno.test("readClipGps: a clip with no GPS and no sidecar has no track and says why", async () => {
  const { track, notes } = await readClipGps(
    `${DIR}/kaiserbass_r50_clip_20240113175633.mp4`,
    {
      timing: {
        startMs: Date.UTC(2024, 0, 13, 17, 56, 33),
        startSource: "name",
        durationS: 163.134,
      },
    },
  );
  assert.equal(track, null);
  assert.ok(notes.length > 0);
});
