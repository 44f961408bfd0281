/**
 * The fleet database's owner and device roles against a real server: the
 * owner migrates and grants; a device role syncs (inserts, reads alerts,
 * pushes alert ids) and can change nothing in the schema; a sync never
 * creates a database nor migrates one.
 */
import assert from "node:assert/strict";
import { Logger } from "../../src/log/mod.ts";
import type { FinalEvent } from "../../src/shared/mod.ts";
import { checkFleet, migrateFleet } from "../../src/sink/fleet.ts";
import { Outbox } from "../../src/sink/outbox.ts";
import { closePg, connectPg, type PgSql } from "../../src/sink/pg_client.ts";
import { deviceGrantsSql, grantDevice } from "../../src/sink/pg_roles.ts";
import { latestPgVersion, migratePg } from "../../src/sink/pg_schema.ts";
import { pullAlerts, pushAlertIds, syncOnce } from "../../src/sink/sync.ts";
import { runDashcam } from "../support/cli.ts";
import { writeTrivialConfig } from "../support/config.ts";
import { startPgCluster } from "../support/pg_cluster.ts";

const quiet = new Logger({ sink: () => {} });

function event(i: number): FinalEvent {
  return {
    eventKey: `roles-clip:${i}`,
    videoId: "roles-clip",
    trackId: i,
    frameIdx: i,
    ts: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
    finalPlate: `RO${i}LE`,
    plateConfidence: 0.9,
    carBbox: [0, 0, 100, 80],
    plateBbox: [10, 50, 40, 60],
  };
}

/** The SQLSTATE a query fails with, or "ok". */
async function sqlstate(query: Promise<unknown>): Promise<string> {
  try {
    await query;
    return "ok";
  } catch (err) {
    return String((err as { code?: string }).code);
  }
}

Deno.test("`deviceGrantsSql()` grants only what a sync needs, quoting the role", () => {
  const text = deviceGrantsSql('van "7"', { database: "dashcam_final" });
  assert.deepEqual(text.split(";\n"), [
    'GRANT CONNECT ON DATABASE "dashcam_final" TO "van ""7"""',
    'GRANT USAGE ON SCHEMA public TO "van ""7"""',
    'GRANT SELECT, INSERT ON vehicles TO "van ""7"""',
    'GRANT UPDATE (alert_id) ON vehicles TO "van ""7"""',
    'GRANT USAGE ON SEQUENCE vehicles_id_seq TO "van ""7"""',
    'GRANT SELECT ON alerts TO "van ""7"""',
    'GRANT SELECT ON schema_migrations TO "van ""7"""',
    'GRANT SELECT, INSERT ON vehicle_evidence TO "van ""7"""',
    'GRANT USAGE ON SEQUENCE vehicle_evidence_id_seq TO "van ""7"""',
    'GRANT SELECT, INSERT ON video_metadata, tracks TO "van ""7"""',
    'GRANT UPDATE (status, error) ON video_metadata TO "van ""7"""',
    'GRANT USAGE ON SEQUENCE video_metadata_id_seq, tracks_id_seq TO "van ""7"""',
  ]);
  assert.throws(() => deviceGrantsSql("", { database: "d" }), RangeError);
  assert.throws(
    () => deviceGrantsSql("x".repeat(64), { database: "d" }),
    RangeError,
  );
});

Deno.test("owner and device roles on a real server", async (t) => {
  await using cluster = await startPgCluster();
  const admin = connectPg({ url: cluster.url, log: quiet });
  const clients: PgSql[] = [admin];
  const dir = await Deno.makeTempDir({ prefix: "pg_roles_" });
  try {
    // An administrator creates the two roles; the owner owns the database.
    await admin.unsafe(
      `CREATE ROLE fleet_owner LOGIN CREATEDB PASSWORD 'owner-pw';
       CREATE ROLE van_7 LOGIN PASSWORD 'device-pw';`,
    );
    const url = (user: string, pw: string, db = "dashcam_final") =>
      `postgres://${user}:${pw}@127.0.0.1:${cluster.port}/${db}`;
    const ownerUrl = url("fleet_owner", "owner-pw");
    const deviceUrl = url("van_7", "device-pw");

    await t.step(
      "the owner's `migrate` creates the database and grants",
      async () => {
        const owner = connectPg({ url: ownerUrl, log: quiet });
        clients.push(owner);
        const result = await migrateFleet(owner, {
          pg: { url: ownerUrl } as Parameters<typeof migrateFleet>[1]["pg"],
          log: quiet,
        });
        assert.equal(result.current, latestPgVersion());
        await grantDevice(owner, "van_7");
        await owner`INSERT INTO alerts (plate, match) VALUES ('RO1LE', 'exact')`;
      },
    );

    const device = connectPg({ url: deviceUrl, log: quiet });
    clients.push(device);

    await t.step("the device role checks the schema and syncs", async () => {
      assert.equal(
        await checkFleet(device, {
          pg: { url: deviceUrl } as Parameters<typeof checkFleet>[1]["pg"],
        }),
        latestPgVersion(),
      );
      const outbox = Outbox.open(`${dir}/outbox.db`);
      try {
        outbox.addMany([event(1), event(2), event(3)]);
        assert.equal(await pullAlerts(outbox, device), 1);
        const result = await syncOnce(outbox, device, {
          deviceId: "van-7",
          log: quiet,
        });
        assert.equal(result.sent, 3);
        assert.equal(outbox.pendingCount(), 0);
        // An alert matched after the send reaches the row already there.
        await pushAlertIds(outbox, device);
      } finally {
        outbox.close();
      }
      const rows = await device<{ n: number }[]>`
        SELECT count(*)::int AS n FROM vehicles WHERE device_id = 'van-7'`;
      assert.equal(rows[0]!.n, 3);
    });

    await t.step(
      "the device role cannot change the schema or other rows",
      async () => {
        assert.equal(
          await sqlstate(
            device.unsafe("ALTER TABLE vehicles ADD COLUMN x int"),
          ),
          "42501",
        );
        assert.equal(
          await sqlstate(device.unsafe("CREATE TABLE intruder (id int)")),
          "42501",
        );
        assert.equal(
          await sqlstate(device.unsafe("DROP TABLE alerts")),
          "42501",
        );
        assert.equal(
          await sqlstate(device.unsafe("DELETE FROM vehicles")),
          "42501",
        );
        assert.equal(
          await sqlstate(
            device.unsafe("UPDATE vehicles SET final_plate = 'X'"),
          ),
          "42501",
        );
        assert.equal(
          await sqlstate(
            device.unsafe("INSERT INTO alerts (plate) VALUES ('X')"),
          ),
          "42501",
        );
        assert.equal(
          await sqlstate(migratePg(device, {
            log: quiet,
            migrations: [{ version: 99, name: "evil", sql: "SELECT 1" }],
          })),
          "42501",
        );
      },
    );
  } finally {
    for (const sql of clients) await closePg(sql, 2000);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("`sync --once` never creates a database nor migrates one", async () => {
  await using cluster = await startPgCluster();
  const root = await Deno.makeTempDir({ prefix: "pg_roles_cli_" });
  const admin = connectPg({ url: cluster.url, log: quiet });
  try {
    const configPath = await writeTrivialConfig(root, {
      pg: { url: cluster.urlFor("dashcam_finall"), device_id: "van-7" },
    });
    // A typo in the database name: an error naming it, and no new database.
    const typo = await runDashcam(["sync", "--once", "--config", configPath]);
    assert.equal(typo.code, 1, typo.stderr);
    assert.match(typo.stderr, /"dashcam_finall" does not exist/);
    assert.match(typo.stderr, /migrate/);
    const dbs = await admin<{ datname: string }[]>`
      SELECT datname FROM pg_database WHERE datname LIKE 'dashcam%'`;
    assert.deepEqual([...dbs], []);

    // An empty database: the sync says to migrate and creates no table.
    await admin.unsafe("CREATE DATABASE dashcam_final");
    const empty = await runDashcam([
      "sync",
      "--once",
      "--config",
      configPath,
      "--pg-url",
      cluster.urlFor("dashcam_final"),
    ]);
    assert.equal(empty.code, 1, empty.stderr);
    assert.match(
      empty.stderr,
      new RegExp(
        `schema is at version 0, this build needs ${latestPgVersion()}; run \`dashcam migrate\``,
      ),
    );
    const fleet = connectPg({
      url: cluster.urlFor("dashcam_final"),
      log: quiet,
    });
    try {
      const tables = await fleet<{ n: number }[]>`
        SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`;
      assert.equal(tables[0]!.n, 0);
    } finally {
      await closePg(fleet, 2000);
    }

    // `migrate --grant-device` as the owner, then the sync goes through.
    await admin.unsafe("CREATE ROLE van_8 LOGIN PASSWORD 'pw8'");
    const migrated = await runDashcam([
      "migrate",
      "--config",
      configPath,
      "--pg-url",
      cluster.urlFor("dashcam_final"),
      "--grant-device",
      "van_8",
    ]);
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.match(migrated.stdout, /granted device privileges to van_8/);
    const synced = await runDashcam([
      "sync",
      "--once",
      "--config",
      configPath,
      "--pg-url",
      `postgres://van_8:pw8@127.0.0.1:${cluster.port}/dashcam_final`,
    ]);
    assert.equal(synced.code, 0, synced.stderr);
    assert.ok(!synced.stderr.includes("pw8") && !synced.stdout.includes("pw8"));

    // A role that does not exist: one line naming the flag.
    const missing = await runDashcam([
      "migrate",
      "--config",
      configPath,
      "--pg-url",
      cluster.urlFor("dashcam_final"),
      "--grant-device",
      "nobody_here",
    ]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /--grant-device/);
  } finally {
    await closePg(admin, 2000);
    await Deno.remove(root, { recursive: true });
  }
});
