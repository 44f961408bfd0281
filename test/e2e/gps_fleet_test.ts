/**
 * Issue 13 acceptance through the real CLI: a GoPro clip with GPS from
 * `../shared/media/gps/` is processed; its events carry the position
 * interpolated from the clip's own track and the GPS (UTC) clock; after
 * `migrate` and `sync --once`, `vehicles --remote --near` finds them in a
 * real PostgreSQL with PostGIS, and `vehicles --near` finds them locally.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { SHARED_MEDIA } from "../support/shared.ts";
import { runDashcam } from "../support/cli.ts";
import { writeTrivialConfig } from "../support/config.ts";
import { startPgCluster } from "../support/pg_cluster.ts";

const CLIP = `${SHARED_MEDIA}/gps/gopro_max_heromode_gpmf_gps5.mp4`;
const expected = JSON.parse(
  await Deno.readTextFile(`${SHARED_MEDIA}/gps/expected.json`),
) as { files: Array<{ file: string; first: { lat: number; lon: number } }> };
const FIRST =
  expected.files.find((f) => f.file === "gopro_max_heromode_gpmf_gps5.mp4")!
    .first;

Deno.test("a GoPro clip's events carry its GPS position and clock, and vehicles --remote --near finds them (PostGIS)", async () => {
  await using cluster = await startPgCluster();
  const root = await Deno.makeTempDir({ prefix: "gps_e2e_" });
  try {
    const configPath = await writeTrivialConfig(root, {
      sampling_fps: 1,
      graph: { poll_ms: 10, retry_backoff_ms: 10 },
      pg: { url: cluster.urlFor("dashcam_final"), device_id: "van-7" },
    });
    const cli = (...args: string[]) =>
      runDashcam([...args, "--config", configPath]);
    const clip = `${root}/GS010042.MP4`;
    await Deno.copyFile(CLIP, clip);
    const processed = await cli("process", "--json", clip);
    assert.equal(processed.code, 0, processed.stderr);
    const events = processed.stdout.trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert.equal(events.length, 3); // trivial stages at 1 fps: frames 0, 5, 10
    const first = events.find((e) => e.frameIdx === 0);
    // Frame 0 is the first GPS5 sample (SampleTime 0): expected.json's first fix.
    assert.equal(first.lat, FIRST.lat);
    assert.equal(first.lon, FIRST.lon);
    assert.equal(first.timeSource, "gps");
    // GPSU is UTC: 23:45 on 2019-11-18, while the camera's CreateDate says 15:45 (PST).
    assert.match(first.ts, /^2019-11-18T23:45:1\d\./);
    // GPS5 speed is m/s: 1.225 m/s at the first fix is 4.41 km/h. (A walker's
    // fixes lie ~1 m apart: too close for a heading, so none is claimed.)
    assert.equal(first.speedKmh, 4.41);
    for (const e of events) assert.equal(typeof e.speedKmh, "number");

    assert.equal((await cli("migrate")).code, 0);
    const synced = await cli("sync", "--once", "--json");
    assert.equal(synced.code, 0, synced.stderr);
    assert.equal(JSON.parse(synced.stdout).sent, 3);

    const near = `${FIRST.lat},${FIRST.lon}`;
    const remote = await cli(
      "vehicles",
      "--remote",
      "--json",
      "--near",
      near,
      "--radius",
      "5",
    );
    assert.equal(remote.code, 0, remote.stderr);
    const found = remote.stdout.trim().split("\n").filter((l) => l).map((l) =>
      JSON.parse(l)
    );
    assert.ok(found.some((r) => r.eventKey === first.eventKey), remote.stdout);
    assert.ok(found.every((r) => r.timeSource === "gps"));
    // --evidence writes the pictures of the matching events as files.
    const fleet = postgres(cluster.urlFor("dashcam_final"), {
      onnotice: () => {},
    });
    try {
      await fleet`INSERT INTO vehicle_evidence (event_key, kind, content_type, data)
        VALUES (${first.eventKey}, 'plate', 'image/png', ${new Uint8Array([
        0x89,
        0x50,
        0x4e,
        0x47,
      ])})`;
    } finally {
      await fleet.end();
    }
    const out = `${root}/pictures`;
    const pics = await cli(
      "vehicles",
      "--remote",
      "--near",
      near,
      "--radius",
      "5",
      "--evidence",
      out,
    );
    assert.equal(pics.code, 0, pics.stderr);
    assert.deepEqual([...Deno.readDirSync(out)].map((e) => e.name), [
      `${first.eventKey.replace(":", "_")}_plate.png`,
    ]);
    const far = await cli(
      "vehicles",
      "--remote",
      "--near",
      "33.2,-117.3",
      "--radius",
      "100",
    );
    assert.match(far.stdout, /no matching vehicles/);
    const local = await cli(
      "vehicles",
      "--near",
      near,
      "--radius",
      "5",
      "--plate",
      "P0",
    );
    assert.equal(local.code, 0, local.stderr);
    assert.match(local.stdout, /P0 .* at 33\.126770,-117\.327344/);
    const bad = await cli("vehicles", "--near", "91,0", "--radius", "5");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--near needs a latitude in -90\.\.90/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
