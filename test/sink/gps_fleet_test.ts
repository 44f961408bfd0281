/**
 * Issue 13 in a real PostgreSQL: location, speed, heading and time source
 * reach `vehicles`; `--near` finds events with PostGIS (ST_DWithin on the
 * GiST-indexed `location`) and without it (lat/lon box + haversine); the
 * pictures reach `vehicle_evidence` exactly once across a server restart in
 * the middle of their sync; `--evidence` writes them back as files.
 */
import assert from "node:assert/strict";
import { Logger } from "../../src/log/mod.ts";
import type { FinalEvent } from "../../src/shared/mod.ts";
import { Outbox } from "../../src/sink/outbox.ts";
import { closePg, connectPg, type PgSql } from "../../src/sink/pg_client.ts";
import {
  ensureDatabase,
  ensurePostgisLocation,
  hasLocationColumn,
  migratePg,
} from "../../src/sink/pg_schema.ts";
import { searchVehicles } from "../../src/sink/pg_search.ts";
import { syncOnce } from "../../src/sink/sync.ts";
import { syncEvidence } from "../../src/sink/evidence_sync.ts";
import { syncClips } from "../../src/sink/clip_sync.ts";
import { writeEvidenceFiles } from "../../src/sink/evidence_files.ts";
import { startPgCluster } from "../support/pg_cluster.ts";

const quiet = new Logger({ sink: () => {} });

// Cambridge market square, and a point 1.2 km east of it.
const HERE = { lat: 52.2053, lon: 0.1192 };
const EAST = { lat: 52.2053, lon: 0.1368 };

function event(
  i: number,
  place: { lat: number; lon: number } | null,
): FinalEvent {
  return {
    eventKey: `clip-a:${i}`,
    videoId: "clip-a",
    trackId: i,
    frameIdx: i * 5,
    ts: new Date(Date.UTC(2026, 6, 18, 6, 3, 29) + i * 1000).toISOString(),
    finalPlate: `AB${i}CDE`,
    plateConfidence: 0.9,
    carBbox: [0, 0, 100, 80],
    plateBbox: [10, 50, 40, 60],
    evidence: `evidence/clip-a/${i}.png`,
    ...(place ? { ...place, speedKmh: 48.5, headingDeg: 145.2 } : {}),
    timeSource: place ? "gps" : "file_name",
  };
}

async function withOutbox<T>(
  fn: (outbox: Outbox, dir: string) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "gps_fleet_" });
  const outbox = Outbox.open(`${dir}/outbox.db`, { log: quiet });
  try {
    return await fn(outbox, dir);
  } finally {
    outbox.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function nearKeys(
  sql: PgSql,
  near: { lat: number; lon: number; radiusM: number },
  plate?: string,
) {
  const rows = await searchVehicles(sql, { near, ...(plate ? { plate } : {}) });
  return rows.map((r) => r.eventKey).sort();
}

Deno.test("with PostGIS: migrate adds location + GiST index, sync sends the place, --near finds it", async () => {
  await using cluster = await startPgCluster();
  await ensureDatabase(cluster.url, "gis", { log: quiet });
  const sql = connectPg({ url: cluster.urlFor("gis"), log: quiet });
  try {
    await migratePg(sql, { log: quiet });
    assert.equal(await hasLocationColumn(sql), true);
    const [idx] = await sql<{ def: string }[]>`
      SELECT indexdef AS def FROM pg_indexes WHERE indexname = 'vehicles_location_gist'`;
    assert.match(idx!.def, /USING gist \(location\)/);
    await withOutbox(async (outbox) => {
      outbox.addMany([event(1, HERE), event(2, EAST), event(3, null)]);
      await syncOnce(outbox, sql, {
        deviceId: "van-7",
        log: quiet,
        pullAlerts: false,
      });
    });
    const [row] = await sql<
      {
        lat: number;
        lon: number;
        speed_kmh: number;
        heading_deg: number;
        time_source: string;
        wkt: string;
      }[]
    >`
      SELECT lat, lon, speed_kmh, heading_deg, time_source,
        ST_AsText(location::geometry) AS wkt
      FROM vehicles WHERE event_key = 'clip-a:1'`;
    assert.deepEqual(
      { ...row },
      {
        lat: HERE.lat,
        lon: HERE.lon,
        speed_kmh: 48.5,
        heading_deg: 145.2,
        time_source: "gps",
        wkt: `POINT(${HERE.lon} ${HERE.lat})`,
      },
    );
    assert.deepEqual(await nearKeys(sql, { ...HERE, radiusM: 500 }), [
      "clip-a:1",
    ]);
    assert.deepEqual(await nearKeys(sql, { ...HERE, radiusM: 1500 }), [
      "clip-a:1",
      "clip-a:2",
    ]);
    assert.deepEqual(await nearKeys(sql, { ...HERE, radiusM: 1500 }, "AB2*"), [
      "clip-a:2",
    ]);
    // The plan uses the GiST index once the table is big enough to matter.
    await sql`SET enable_seqscan = off`;
    const plan = await sql.unsafe(
      `EXPLAIN SELECT id FROM vehicles WHERE ST_DWithin(location,
      ST_SetSRID(ST_MakePoint(${HERE.lon}, ${HERE.lat}), 4326)::geography, 500)`,
    );
    assert.match(JSON.stringify(plan), /vehicles_location_gist/);
  } finally {
    await closePg(sql, 2000);
  }
});

Deno.test("without PostGIS: lat/lon columns only, --near by box + haversine gives the same answer", async () => {
  await using cluster = await startPgCluster();
  // An owner who may not create PostGIS (not a superuser; PostGIS is not a
  // trusted extension): migrate falls back to lat/lon with a notice.
  const admin = connectPg({ url: cluster.url, log: quiet, max: 1 });
  await admin.unsafe(
    `CREATE ROLE fleet_owner LOGIN CREATEDB PASSWORD 'owner-pw'`,
  );
  await admin.unsafe(`CREATE DATABASE plain OWNER fleet_owner`);
  await closePg(admin, 2000);
  const url = new URL(cluster.urlFor("plain"));
  url.username = "fleet_owner";
  url.password = "owner-pw";
  const sql = connectPg({ url: url.href, log: quiet });
  try {
    await migratePg(sql, { log: quiet });
    assert.equal(await hasLocationColumn(sql), false);
    assert.equal(await ensurePostgisLocation(sql), false);
    await withOutbox(async (outbox) => {
      outbox.addMany([event(1, HERE), event(2, EAST), event(3, null)]);
      await syncOnce(outbox, sql, {
        deviceId: "van-7",
        log: quiet,
        pullAlerts: false,
      });
    });
    assert.deepEqual(await nearKeys(sql, { ...HERE, radiusM: 500 }), [
      "clip-a:1",
    ]);
    assert.deepEqual(await nearKeys(sql, { ...HERE, radiusM: 1500 }), [
      "clip-a:1",
      "clip-a:2",
    ]);
  } finally {
    await closePg(sql, 2000);
  }
});

Deno.test("evidence rows arrive exactly once across a server restart mid-sync; --evidence writes them", async () => {
  await using cluster = await startPgCluster();
  await ensureDatabase(cluster.url, "ev", { log: quiet });
  const sql = connectPg({
    url: cluster.urlFor("ev"),
    log: quiet,
    connectTimeoutS: 5,
  });
  try {
    await migratePg(sql, { log: quiet });
    await withOutbox(async (outbox, dir) => {
      const events = [1, 2, 3, 4].map((i) => event(i, HERE));
      await Deno.mkdir(`${dir}/evidence/clip-a`, { recursive: true });
      for (const e of events) {
        await Deno.writeFile(
          `${dir}/${e.evidence}`,
          new Uint8Array([0x89, 0x50, e.trackId]),
        );
      }
      // Vehicle crop of event 2 only; event 4's plate picture is too large.
      await Deno.writeFile(
        `${dir}/evidence/clip-a/2_vehicle.jpg`,
        new Uint8Array([0xff, 0xd8, 2]),
      );
      await Deno.writeFile(
        `${dir}/${events[3]!.evidence}`,
        new Uint8Array(2000),
      );
      outbox.addMany(events);
      await syncOnce(outbox, sql, {
        deviceId: "van-7",
        log: quiet,
        pullAlerts: false,
      });
      // First batch inserted, then the server goes down before the outbox
      // records it: the call fails, nothing local is marked.
      let calls = 0;
      await assert.rejects(syncEvidence(outbox, sql, {
        dataDir: dir,
        deviceId: "van-7",
        batchSize: 2,
        maxBytes: 1000,
        log: quiet,
        afterInsert: async () => {
          calls += 1;
          if (calls === 1) {
            await cluster.stop("immediate");
            throw new Error("crash after insert");
          }
        },
      }));
      await cluster.start();
      const again = await syncEvidence(outbox, sql, {
        dataDir: dir,
        deviceId: "van-7",
        batchSize: 2,
        maxBytes: 1000,
        log: quiet,
      });
      assert.equal(again.duplicates, 3); // event 1 plate, event 2 plate + vehicle
      assert.equal(again.inserted, 1); // event 3 plate
      assert.equal(again.kept, 1); // event 4: too large
      const rows = await sql<{ event_key: string; kind: string; n: number }[]>`
        SELECT event_key, kind, count(*)::int AS n FROM vehicle_evidence
        GROUP BY event_key, kind ORDER BY event_key, kind`;
      assert.deepEqual(rows.map((r) => `${r.event_key}/${r.kind}/${r.n}`), [
        "clip-a:1/plate/1",
        "clip-a:2/plate/1",
        "clip-a:2/vehicle/1",
        "clip-a:3/plate/1",
      ]);
      assert.equal(outbox.unsyncedEvidence(10).length, 0);
      const out = `${dir}/out`;
      const written = await writeEvidenceFiles(sql, {
        dir: out,
        eventKeys: ["clip-a:2"],
      });
      assert.deepEqual(written.map((p) => p.slice(out.length + 1)), [
        "clip-a_2_plate.png",
        "clip-a_2_vehicle.jpg",
      ]);
      assert.deepEqual(
        await Deno.readFile(`${out}/clip-a_2_vehicle.jpg`),
        new Uint8Array([0xff, 0xd8, 2]),
      );
    });
  } finally {
    await closePg(sql, 2000);
  }
});

Deno.test("a picture never arrives before its event (foreign key), and keepLocal sends none", async () => {
  await using cluster = await startPgCluster();
  await ensureDatabase(cluster.url, "fk", { log: quiet });
  const sql = connectPg({ url: cluster.urlFor("fk"), log: quiet });
  try {
    await migratePg(sql, { log: quiet });
    await assert.rejects(
      sql`INSERT INTO vehicle_evidence (event_key, kind, content_type, data) VALUES ('nope:1', 'plate', 'image/png', '\\x00')`,
      (err: { code?: string }) => err.code === "23503",
    );
    await withOutbox(async (outbox, dir) => {
      await Deno.mkdir(`${dir}/evidence/clip-a`, { recursive: true });
      await Deno.writeFile(`${dir}/evidence/clip-a/1.png`, new Uint8Array([1]));
      outbox.add(event(1, HERE));
      // Not synced yet: nothing to offer.
      assert.equal(outbox.unsyncedEvidence(10).length, 0);
      await syncOnce(outbox, sql, {
        deviceId: "van-7",
        log: quiet,
        pullAlerts: false,
      });
      const r = await syncEvidence(outbox, sql, {
        dataDir: dir,
        deviceId: "van-7",
        keepLocal: true,
        log: quiet,
      });
      assert.deepEqual(r, { inserted: 0, duplicates: 0, kept: 1 });
      const [{ n }] = await sql<
        { n: number }[]
      >`SELECT count(*)::int AS n FROM vehicle_evidence`;
      assert.equal(n, 0);
    });
  } finally {
    await closePg(sql, 2000);
  }
});

Deno.test("clips and tracks reach video_metadata and tracks once, and join to vehicles by video_id and track_id", async () => {
  await using cluster = await startPgCluster();
  await ensureDatabase(cluster.url, "clips", { log: quiet });
  const sql = connectPg({ url: cluster.urlFor("clips"), log: quiet });
  try {
    await migratePg(sql, { log: quiet });
    await withOutbox(async (outbox) => {
      outbox.addMany([event(1, HERE), event(2, EAST)]);
      const clip = {
        videoId: "clip-a",
        fileName: "20260718_070331_NF.mp4",
        startTs: "2026-07-18T06:03:28.000Z",
        durationS: 60,
        width: 1920,
        height: 1080,
        fps: 30,
        timeSource: "gps",
        gpsSource: "nmea:/sd/20260718_070331_N.gps",
        gpsFixes: 60,
        gpsFirst: HERE,
        gpsLast: EAST,
        status: "done",
        error: null,
      };
      const tracks = [1, 2].map((i) => ({
        videoId: "clip-a",
        trackId: i,
        firstSeen: "2026-07-18T06:03:29.000Z",
        lastSeen: "2026-07-18T06:03:31.000Z",
        firstFrame: 5,
        lastFrame: 15,
        frames: 11,
        reads: 9,
        finalPlate: `AB${i}CDE`,
      }));
      assert.equal(outbox.addClip(clip, tracks), true);
      assert.equal(outbox.addClip(clip, tracks), false);
      await syncOnce(outbox, sql, {
        deviceId: "van-7",
        log: quiet,
        pullAlerts: false,
      });
      assert.deepEqual(await syncClips(outbox, sql, { deviceId: "van-7" }), {
        clips: 1,
        tracks: 2,
      });
      // A crash before the outbox recorded it: the re-send is a no-op.
      outbox.db.exec("UPDATE clips SET sent_at = NULL");
      assert.deepEqual(await syncClips(outbox, sql, { deviceId: "van-7" }), {
        clips: 0,
        tracks: 0,
      });
    });
    const rows = await sql<
      {
        final_plate: string;
        file_name: string;
        reads: number;
        gps_fixes: number;
      }[]
    >`
      SELECT v.final_plate, m.file_name, t.reads, m.gps_fixes
      FROM vehicles v
      JOIN video_metadata m ON m.video_id = v.video_id AND m.device_id = v.device_id
      JOIN tracks t ON t.video_id = v.video_id AND t.track_id = v.track_id
        AND t.device_id = v.device_id
      ORDER BY v.final_plate`;
    assert.deepEqual(rows.map((r) => ({ ...r })), [
      {
        final_plate: "AB1CDE",
        file_name: "20260718_070331_NF.mp4",
        reads: 9,
        gps_fixes: 60,
      },
      {
        final_plate: "AB2CDE",
        file_name: "20260718_070331_NF.mp4",
        reads: 9,
        gps_fixes: 60,
      },
    ]);
  } finally {
    await closePg(sql, 2000);
  }
});
