/**
 * A fleet, not a vehicle (issue 13 item 5): one real PostgreSQL, the schema
 * put on by the product's own `migrate` (as the owner, granting a device
 * role), and 200 simulated devices (separate outbox.db files and device
 * ids, 4 processes of 50, each device running the product's `SyncLoop` on
 * its own connection) syncing a backlog each while new events keep
 * arriving. The server is stopped and started twice (an immediate stop: a
 * crash, then a fast one) at points chosen by progress: when the rows in
 * `vehicles` pass a seeded fraction of the backlog. Afterwards every event of
 * every outbox is in `vehicles` exactly once, from the right device, and
 * every outbox shows all its rows sent.
 *
 * Replay a failure with the seed its message prints:
 * `DASHCAM_TEST_SEED=N deno test … test/e2e/fleet_load_test.ts`.
 */
import assert from "node:assert/strict";
import { Logger } from "../../src/log/mod.ts";
import { closePg, connectPg, type PgSql } from "../../src/sink/mod.ts";
import { runDashcam } from "../support/cli.ts";
import {
  fleetDeviceId,
  type FleetProcess,
  readOutbox,
  spawnFleetDevices,
} from "../support/fleet_sim.ts";
import { type PgCluster, startPgCluster } from "../support/pg_cluster.ts";
import { prng } from "../support/random.ts";

const DEVICES = 200;
const PROCESSES = 4;
const BACKLOG: [number, number] = [100, 200];
/** Polls of the server's row count (20 ms apart at least) before giving up. */
const MAX_POLLS = 6000;

const quiet = new Logger({ sink: () => {} });
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Rows in `vehicles`, or `fallback` while the server is away. */
async function rowCount(probe: PgSql, fallback: number): Promise<number> {
  return await probe<{ n: number }[]>`SELECT count(*)::int AS n FROM vehicles`
    .then((r) => r[0]!.n, () => fallback);
}

/**
 * Polls (bounded) until `vehicles` holds at least `target` rows; fails when
 * a device process exits early or the bound is hit.
 */
async function waitForRows(
  probe: PgSql,
  target: number,
  processes: FleetProcess[],
): Promise<number> {
  let seen = 0;
  for (let poll = 0; poll < MAX_POLLS; poll++) {
    seen = await rowCount(probe, seen);
    if (seen >= target) return seen;
    const gone = processes.find((p) => p.exited);
    if (gone) {
      const { code, stderr } = await gone.done;
      throw new Error(
        `a device process exited (${code}) at ${seen} rows: ${
          stderr.slice(-2000)
        }`,
      );
    }
    await pause(20);
  }
  throw new Error(`vehicles stayed at ${seen} rows, waiting for ${target}`);
}

async function restart(cluster: PgCluster, mode: "immediate" | "fast") {
  await cluster.stop(mode);
  await cluster.start();
}

async function fleetLoad(seed: number): Promise<void> {
  const random = prng(seed);
  await using cluster = await startPgCluster({ maxConnections: 300 });
  const root = await Deno.makeTempDir({ prefix: "fleet_load_" });
  const processes: FleetProcess[] = [];
  const admin = connectPg({ url: cluster.url, log: quiet, max: 1 });
  let probe: PgSql | null = null;
  try {
    // The fleet's owner migrates and grants the device role, as README says.
    const devicePassword = `dev-${crypto.randomUUID()}`;
    await admin.unsafe(
      `CREATE ROLE fleet_device LOGIN PASSWORD '${devicePassword}'`,
    );
    const migrated = await runDashcam([
      "migrate",
      "--pg-url",
      cluster.urlFor("dashcam_final"),
      "--grant-device",
      "fleet_device",
      "--data-dir",
      `${root}/owner`,
    ]);
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.match(migrated.stdout, /applied migrations/);
    const deviceUrl = `postgres://fleet_device:${
      encodeURIComponent(devicePassword)
    }@127.0.0.1:${cluster.port}/dashcam_final`;

    const perProcess = DEVICES / PROCESSES;
    for (let p = 0; p < PROCESSES; p++) {
      processes.push(spawnFleetDevices({
        dir: `${root}/devices`,
        url: deviceUrl,
        first: p * perProcess,
        count: perProcess,
        seed,
        backlog: BACKLOG,
        live: true,
        batch: [10, 100],
      }));
    }
    await Promise.all(processes.map((p) => p.ready));
    await Promise.all(processes.map((p) => p.go()));

    // Two restarts at seeded points of progress through the backlog.
    probe = connectPg({
      url: cluster.urlFor("dashcam_final"),
      log: quiet,
      max: 1,
    });
    const backlog = DEVICES * (BACKLOG[0] + BACKLOG[1]) / 2;
    const first = Math.round(backlog * (0.15 + random() * 0.2));
    const second = Math.round(backlog * (0.5 + random() * 0.25));
    await waitForRows(probe, first, processes);
    await restart(cluster, "immediate");
    const atSecond = await waitForRows(probe, second, processes);
    await restart(cluster, "fast");
    // The devices come back and deliver more before new events stop.
    await waitForRows(probe, atSecond + 1000, processes);
    await Promise.all(processes.map((p) => p.drain()));
    const results = await Promise.all(processes.map((p) => p.done));
    for (const r of results) {
      assert.equal(
        r.code,
        0,
        `device process failed: ${JSON.stringify(r.summary)} ${
          r.stderr.slice(-2000)
        }`,
      );
    }
    const summaries = results.map((r) => r.summary!);
    // The restarts hit devices in the middle of syncing.
    assert.ok(
      summaries.reduce((n, s) => n + s.failedPasses, 0) > 0,
      `no sync pass failed across two restarts: ${JSON.stringify(summaries)}`,
    );

    // Every event of every outbox is in vehicles exactly once.
    const expected = new Map<string, string>();
    for (let d = 0; d < DEVICES; d++) {
      const id = fleetDeviceId(d);
      const contents = readOutbox(`${root}/devices/${id}/outbox.db`);
      assert.deepEqual(
        { pending: contents.pending, rejected: contents.rejected },
        { pending: 0, rejected: 0 },
        `outbox of ${id}`,
      );
      assert.equal(contents.sent, contents.events.length, `outbox of ${id}`);
      for (const e of contents.events) {
        expected.set(e.eventKey, `${id} ${e.finalPlate} ${e.lat}`);
      }
    }
    assert.equal(
      expected.size,
      summaries.reduce((n, s) => n + s.events, 0),
      "events the devices stored vs. keys in their outboxes",
    );
    const [counts] = await probe<{ n: number; keys: number }[]>`
      SELECT count(*)::int AS n, count(DISTINCT event_key)::int AS keys
      FROM vehicles`;
    assert.deepEqual({ ...counts }, { n: expected.size, keys: expected.size });
    const rows = await probe<
      {
        event_key: string;
        device_id: string;
        final_plate: string;
        lat: number | null;
      }[]
    >`SELECT event_key, device_id, final_plate, lat FROM vehicles`;
    const wrong = rows.filter((r) =>
      expected.get(r.event_key) !== `${r.device_id} ${r.final_plate} ${r.lat}`
    );
    assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} rows differ`);
    // With PostGIS (as in CI), every fix also became a point.
    const fixes = [...expected.values()].filter((v) => !v.endsWith(" null"));
    const [geo] = await probe<{ has: boolean }[]>`
      SELECT EXISTS (SELECT 1 FROM information_schema.columns
        WHERE table_name = 'vehicles' AND column_name = 'location') AS has`;
    if (geo!.has) {
      const [points] = await probe<{ n: number }[]>`
        SELECT count(location)::int AS n FROM vehicles`;
      assert.equal(points!.n, fixes.length);
    }
  } finally {
    for (const p of processes) p.kill();
    await Promise.allSettled(processes.map((p) => p.done));
    if (probe) await closePg(probe, 2000);
    await closePg(admin, 2000);
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test(`${DEVICES} devices in ${PROCESSES} processes sync at once through two server restarts; every event lands once`, async () => {
  const seed = Number(
    Deno.env.get("DASHCAM_TEST_SEED") ?? Math.floor(Math.random() * 2 ** 31),
  );
  try {
    await fleetLoad(seed);
  } catch (err) {
    throw new Error(
      `fleet load test failed with seed ${seed} (replay: DASHCAM_TEST_SEED=${seed}): ${
        (err as Error).message
      }`,
      { cause: err },
    );
  }
});
