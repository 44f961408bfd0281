/**
 * The fleet Postgres through the real CLI and a real server: offline
 * capture, sync when the server comes back, no password in any output,
 * plates of interest, local and remote search.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { makeTestClip } from "../support/clips.ts";
import { runDashcam } from "../support/cli.ts";
import { writeTrivialConfig } from "../support/config.ts";
import { startPgCluster } from "../support/pg_cluster.ts";

Deno.test("events captured while Postgres is down arrive once it is back; passwords never printed; plates of interest flagged", async () => {
  await using cluster = await startPgCluster();
  const root = await Deno.makeTempDir();
  try {
    const fleetUrl = cluster.urlFor("dashcam_final");
    const configPath = await writeTrivialConfig(root, {
      graph: { poll_ms: 10, retry_backoff_ms: 10 },
      pg: { url: fleetUrl, device_id: "van-7" },
    });
    const cli = (...args: string[]) =>
      runDashcam([...args, "--config", configPath]);

    // Schema first, then a plate of interest on the fleet side.
    const migrated = await cli("migrate");
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.match(migrated.stdout, /applied migrations 1, 2, 3, 4, 5, 6, 7/);
    assert.match(
      (await cli("migrate")).stdout,
      /schema up to date at version 7/,
    );
    const sql = postgres(fleetUrl, { onnotice: () => {} });
    try {
      await sql`INSERT INTO alerts (plate, match, note) VALUES ('P2', 'exact', 'stolen')`;
    } finally {
      await sql.end();
    }

    // Offline: the server is down while a clip is processed.
    await cluster.stop("immediate");
    const clip = await makeTestClip(root, "a.mp4", { durationS: 3 });
    const processed = await cli("process", "--json", clip);
    assert.equal(processed.code, 0, processed.stderr);
    assert.equal(processed.stdout.trim().split("\n").length, 3);
    const offline = await cli("sync", "--once");
    assert.equal(offline.code, 1);
    assert.match(offline.stderr, /pg\.url/);
    assert.match(offline.stderr, new RegExp(`127\\.0\\.0\\.1:${cluster.port}`));
    const status = await cli("status");
    assert.match(status.stdout, /outbox: pending=3 sent=0/);
    assert.match(status.stdout, /last_error=/);

    // Back online: everything arrives, once.
    await cluster.start();
    const synced = await cli("sync", "--once", "--json");
    assert.equal(synced.code, 0, synced.stderr);
    assert.deepEqual(
      {
        sent: JSON.parse(synced.stdout).sent,
        pending: JSON.parse(synced.stdout).pending,
      },
      { sent: 3, pending: 0 },
    );
    const again = await cli("sync", "--once", "--json");
    assert.equal(JSON.parse(again.stdout).sent, 0);

    // The alerts are now local: a second clip whose track reads P2 is flagged.
    const clip2 = await makeTestClip(root, "b.mp4", {
      durationS: 3,
      source: "testsrc2",
    });
    const second = await cli("process", "--json", "--log-level", "warn", clip2);
    assert.equal(second.code, 0, second.stderr);
    assert.match(
      second.stderr,
      /plate of interest seen plate=P2 listed=P2 match=exact note=stolen/,
    );
    const local = await cli("vehicles", "--plate", "P2");
    assert.match(local.stdout, /P2 .* pending ALERT/);
    assert.equal((await cli("sync", "--once")).code, 0);

    const db = postgres(fleetUrl, { onnotice: () => {} });
    try {
      const rows =
        await db`SELECT event_key, device_id, final_plate, alert_id FROM vehicles ORDER BY id`;
      assert.equal(rows.length, 6);
      assert.equal(new Set(rows.map((r) => r.event_key)).size, 6);
      assert.ok(rows.every((r) => r.device_id === "van-7"));
      assert.deepEqual(
        rows.filter((r) => r.alert_id !== null).map((r) => r.final_plate),
        ["P2"],
      );
    } finally {
      await db.end();
    }
    const remote = await cli("vehicles", "--remote", "--json", "--plate", "P*");
    assert.equal(remote.code, 0, remote.stderr);
    assert.equal(remote.stdout.trim().split("\n").length, 6);

    // A wrong password: one line naming the setting, and the password nowhere.
    const secret = "Sup3r-S3cret-pw";
    const wrong = await runDashcam([
      "sync",
      "--once",
      "--config",
      configPath,
      "--pg-url",
      cluster.urlFor("dashcam_final", { password: secret }),
      "--log-level",
      "debug",
    ]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /pg\.url/);
    assert.ok(
      !wrong.stderr.includes(secret) && !wrong.stdout.includes(secret),
      wrong.stderr,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
