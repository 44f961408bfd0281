/**
 * Rows the server refuses, against a real PostgreSQL: a trigger's RAISE and
 * a row-level-security policy refuse one row each and every other row
 * arrives; refused rows come back after their backoff (injected clock) or
 * `sync --once --retry-rejected`; an outbox that cannot be written does not
 * stop the sync loop and is never reported as a Postgres fault.
 */
import assert from "node:assert/strict";
import { openGraphDb } from "../../src/graph/mod.ts";
import { Logger } from "../../src/log/mod.ts";
import type { FinalEvent } from "../../src/shared/mod.ts";
import { Outbox } from "../../src/sink/outbox.ts";
import {
  closePg,
  connectPg,
  PgDescribedError,
  type PgSql,
} from "../../src/sink/pg_client.ts";
import { ensureDatabase, migratePg } from "../../src/sink/pg_schema.ts";
import {
  SyncLoop,
  syncOnce,
  type SyncPassOutcome,
} from "../../src/sink/sync.ts";
import { runDashcam } from "../support/cli.ts";
import { writeTrivialConfig } from "../support/config.ts";
import { type PgCluster, startPgCluster } from "../support/pg_cluster.ts";

const quiet = new Logger({ sink: () => {} });

function makeEvent(i: number, plate = `AB${String(i).padStart(5, "0")}`) {
  return {
    eventKey: `clip-r:${i}`,
    videoId: "clip-r",
    trackId: i,
    frameIdx: i,
    ts: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
    finalPlate: plate,
    plateConfidence: 0.9,
    carBbox: [i, i + 1, i + 100, i + 80],
    plateBbox: [i + 10, i + 50, i + 40, i + 60],
  } satisfies FinalEvent;
}

/** A fresh migrated database with a superuser client, and an empty outbox. */
async function fixture(cluster: PgCluster, name: string, now?: () => Date) {
  await ensureDatabase(cluster.url, name, { log: quiet });
  const sql = connectPg({ url: cluster.urlFor(name), log: quiet });
  await migratePg(sql, { log: quiet });
  const dir = await Deno.makeTempDir({ prefix: "sync_refusals_" });
  const outbox = Outbox.open(`${dir}/outbox.db`, now ? { now } : {});
  return {
    sql,
    outbox,
    dir,
    async [Symbol.asyncDispose]() {
      outbox.close();
      await closePg(sql, 2000);
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function plates(sql: PgSql): Promise<string[]> {
  const rows = await sql<{ final_plate: string }[]>`
    SELECT final_plate FROM vehicles ORDER BY event_key`;
  return rows.map((r) => r.final_plate);
}

function setAside(outbox: Outbox): Array<{ plate: string; error: string }> {
  return (outbox.db.prepare(
    `SELECT final_plate, last_error FROM events
     WHERE rejected_at IS NOT NULL AND sent_at IS NULL ORDER BY id`,
  ).all() as Array<{ final_plate: string; last_error: string }>).map((r) => ({
    plate: r.final_plate,
    error: r.last_error,
  }));
}

Deno.test("refused rows against a real server", async (t) => {
  await using cluster = await startPgCluster();

  await t.step(
    "a trigger that RAISEs for one plate sets only that row aside",
    async () => {
      await using f = await fixture(cluster, "trigger_raise");
      await f.sql.unsafe(`
        CREATE FUNCTION refuse_plate() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.final_plate = 'BAD001' THEN
            RAISE EXCEPTION 'plate % is blocked', NEW.final_plate;
          END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER refuse_plate BEFORE INSERT ON vehicles
          FOR EACH ROW EXECUTE FUNCTION refuse_plate();`);
      f.outbox.addMany([
        makeEvent(0),
        makeEvent(1, "BAD001"),
        makeEvent(2),
        makeEvent(3),
      ]);
      const result = await syncOnce(f.outbox, f.sql, {
        deviceId: "van-r",
        log: quiet,
        pullAlerts: false,
      });
      assert.equal(result.sent, 3);
      assert.equal(result.rejected, 1);
      assert.deepEqual(await plates(f.sql), ["AB00000", "AB00002", "AB00003"]);
      assert.deepEqual(setAside(f.outbox), [
        { plate: "BAD001", error: "P0001 plate BAD001 is blocked" },
      ]);
      assert.equal(f.outbox.pendingCount(), 0);
      // Later rows are not held up by it.
      f.outbox.add(makeEvent(4));
      const next = await syncOnce(f.outbox, f.sql, {
        deviceId: "van-r",
        log: quiet,
        pullAlerts: false,
      });
      assert.equal(next.sent, 1);
      assert.equal(next.rejected, 0);
    },
  );

  await t.step(
    "a row-level-security policy refusing one row (42501) sets only that row aside",
    async () => {
      await using f = await fixture(cluster, "rls_refusal");
      const password = "rls-pw-7f3a";
      await f.sql.unsafe(`
        CREATE ROLE sync_rls LOGIN PASSWORD '${password}';
        GRANT SELECT, INSERT, UPDATE ON vehicles TO sync_rls;
        GRANT USAGE ON SEQUENCE vehicles_id_seq TO sync_rls;
        GRANT SELECT ON alerts TO sync_rls;
        ALTER TABLE vehicles ENABLE ROW LEVEL SECURITY;
        CREATE POLICY no_rls_plate ON vehicles FOR INSERT TO sync_rls
          WITH CHECK (final_plate <> 'RLS001');
        CREATE POLICY read_all ON vehicles FOR SELECT TO sync_rls USING (true);`);
      const url =
        `postgres://sync_rls:${password}@127.0.0.1:${cluster.port}/rls_refusal`;
      const limited = connectPg({ url, log: quiet });
      try {
        f.outbox.addMany([
          makeEvent(10),
          makeEvent(11),
          makeEvent(12, "RLS001"),
          makeEvent(13),
        ]);
        const result = await syncOnce(f.outbox, limited, {
          deviceId: "van-r",
          log: quiet,
        });
        assert.equal(result.sent, 3);
        assert.equal(result.rejected, 1);
        assert.deepEqual(await plates(f.sql), [
          "AB00010",
          "AB00011",
          "AB00013",
        ]);
        const aside = setAside(f.outbox);
        assert.equal(aside.length, 1);
        assert.equal(aside[0]!.plate, "RLS001");
        assert.match(
          aside[0]!.error,
          /^42501 new row violates row-level security/,
        );
      } finally {
        await closePg(limited, 2000);
      }
    },
  );

  await t.step(
    "a refused row comes back on its own after its backoff (injected clock)",
    async () => {
      let clock = new Date("2026-03-01T10:00:00.000Z");
      const now = () => clock;
      await using f = await fixture(cluster, "auto_retry", now);
      await f.sql`ALTER TABLE vehicles
        ADD CONSTRAINT for_a_while CHECK (final_plate <> 'TMP001')`;
      f.outbox.addMany([makeEvent(20), makeEvent(21, "TMP001")]);
      const opts = { deviceId: "van-r", log: quiet, pullAlerts: false, now };
      const first = await syncOnce(f.outbox, f.sql, opts);
      assert.deepEqual([first.sent, first.rejected], [1, 1]);
      assert.equal(
        f.outbox.stats().nextRejectedRetryAt,
        "2026-03-01T10:10:00.000Z",
      );
      // Still refused at the first retry: the next wait doubles.
      clock = new Date("2026-03-01T10:10:00.000Z");
      const second = await syncOnce(f.outbox, f.sql, opts);
      assert.deepEqual([second.sent, second.rejected], [0, 1]);
      assert.equal(
        f.outbox.stats().nextRejectedRetryAt,
        "2026-03-01T10:30:00.000Z",
      );
      await f.sql`ALTER TABLE vehicles DROP CONSTRAINT for_a_while`;
      // Not due yet: not offered.
      clock = new Date("2026-03-01T10:29:59.000Z");
      const early = await syncOnce(f.outbox, f.sql, opts);
      assert.deepEqual([early.sent, early.rejected], [0, 0]);
      assert.equal(f.outbox.stats().rejected, 1);
      clock = new Date("2026-03-01T10:30:00.000Z");
      const due = await syncOnce(f.outbox, f.sql, opts);
      assert.deepEqual([due.sent, due.rejected], [1, 0]);
      assert.equal(f.outbox.stats().rejected, 0);
      assert.deepEqual(await plates(f.sql), ["AB00020", "TMP001"]);
    },
  );

  await t.step(
    "an outbox that cannot be written: the loop keeps going, says outbox.db, then delivers",
    async () => {
      await using f = await fixture(cluster, "outbox_readonly");
      f.outbox.addMany([makeEvent(30), makeEvent(31)]);
      // Every write to outbox.db now fails (as on a full or read-only disk).
      f.outbox.db.exec("PRAGMA query_only = 1");
      const lines: string[] = [];
      const log = new Logger({ sink: (l) => lines.push(l) });
      const outcomes: SyncPassOutcome[] = [];
      const delays: number[] = [];
      const done = Promise.withResolvers<void>();
      const loop: SyncLoop = new SyncLoop(f.outbox, f.sql, {
        deviceId: "van-r",
        minDelayMs: 100,
        maxDelayMs: 1000,
        random: () => 0,
        log,
        onPass: (o) => {
          outcomes.push(o);
          // A hook writing to the same outbox (as retention does) fails too.
          f.outbox.db.exec("DELETE FROM sync_state");
        },
        sleep: (ms) => {
          delays.push(ms);
          if (delays.length === 3) f.outbox.db.exec("PRAGMA query_only = 0");
          if (outcomes.at(-1)?.ok) loop.stop().then(done.resolve);
          return Promise.resolve();
        },
      });
      loop.start();
      await done.promise;
      assert.equal(loop.running, false);
      assert.deepEqual(outcomes.map((o) => o.ok), [false, false, false, true]);
      for (const o of outcomes.slice(0, 3)) {
        assert.ok(!o.ok);
        assert.match(
          o.error,
          /^Cannot write the outbox \S*outbox\.db \([^)]+\): attempt to write a readonly database, will retry/,
        );
        assert.doesNotMatch(o.error, /Postgres/);
      }
      assert.deepEqual(delays.slice(0, 3), [100, 100, 100]);
      // One line per failed pass, each naming outbox.db.
      const failures = lines.filter((l) => l.includes("Cannot write"));
      assert.equal(failures.length >= 3, true);
      for (const l of failures) assert.match(l, /outbox\.db/);
      // The rows committed in Postgres during the failed passes are not duplicated.
      assert.deepEqual(await plates(f.sql), ["AB00030", "AB00031"]);
      assert.equal(f.outbox.pendingCount(), 0);
    },
  );

  await t.step(
    "errors name host:port once: no '(unknown host)', no double wrapping",
    async () => {
      await using f = await fixture(cluster, "one_line");
      f.outbox.add(makeEvent(40));
      await f.sql`DROP TABLE vehicles CASCADE`; // 42P01 on every pass (CASCADE: vehicle_evidence refers to it)
      const outcomes: SyncPassOutcome[] = [];
      const done = Promise.withResolvers<void>();
      let prepared = 0;
      const loop: SyncLoop = new SyncLoop(f.outbox, f.sql, {
        deviceId: "van-r",
        log: quiet,
        prepare: () => {
          prepared += 1;
          if (prepared > 1) return Promise.resolve();
          return Promise.reject(
            new PgDescribedError(
              `Cannot use Postgres at 127.0.0.1:${cluster.port} (pg.url): relation "x" does not exist, run \`migrate\``,
            ),
          );
        },
        onPass: (o) => outcomes.push(o),
        sleep: () => {
          if (outcomes.length === 2) loop.stop().then(done.resolve);
          return Promise.resolve();
        },
      });
      loop.start();
      await done.promise;
      const errors = outcomes.map((o) => o.ok ? "ok" : o.error);
      assert.deepEqual(errors, [
        `Cannot use Postgres at 127.0.0.1:${cluster.port} (pg.url): relation "x" does not exist, run \`migrate\``,
        `Cannot use Postgres at 127.0.0.1:${cluster.port} (pg.url): relation "vehicles" does not exist, run \`migrate\``,
      ]);
      // A missing table is not the row's fault: the row stays pending.
      assert.equal(f.outbox.pendingCount(), 1);
    },
  );
});

Deno.test("`sync --once` reports rejected rows and `--retry-rejected` delivers them once the cause is gone", async () => {
  await using cluster = await startPgCluster();
  const root = await Deno.makeTempDir({ prefix: "sync_cli_rejected_" });
  try {
    const fleetUrl = cluster.urlFor("dashcam_final");
    const configPath = await writeTrivialConfig(root, {
      pg: { url: fleetUrl, device_id: "van-9" },
    });
    const cli = (...args: string[]) =>
      runDashcam([...args, "--config", configPath]);
    assert.equal((await cli("migrate")).code, 0);
    const sql = connectPg({ url: fleetUrl, log: quiet });
    try {
      await sql`ALTER TABLE vehicles
        ADD CONSTRAINT for_a_while CHECK (final_plate <> 'TMP002')`;
      const dataDir = JSON.parse(await Deno.readTextFile(configPath)).data_dir;
      await Deno.mkdir(dataDir, { recursive: true });
      const outbox = Outbox.open(`${dataDir}/outbox.db`);
      outbox.addMany([makeEvent(50), makeEvent(51, "TMP002")]);
      outbox.close();
      openGraphDb(`${dataDir}/pipeline.db`).close(); // `status` needs one

      const first = await cli("sync", "--once");
      assert.equal(first.code, 0, first.stderr);
      assert.match(
        first.stdout,
        /^sent 1 event\(s\), 1 rejected now; 0 pending; 1 rejected \(set aside, next retry \S+, or use --retry-rejected\), first error: 23514 new row for relation "vehicles" violates check constraint "for_a_while"/,
      );
      const status = await cli("status");
      assert.match(status.stdout, /outbox: pending=0 sent=1 rejected=1/);
      assert.match(
        status.stdout,
        /rejected: 1 event\(s\) set aside, next retry \S+, first error: 23514 /,
      );
      const json = JSON.parse((await cli("status", "--json")).stdout);
      assert.equal(json.outbox.rejected, 1);
      assert.match(json.outbox.firstRejectedError, /^23514 /);

      // Plain sync --once does not offer it again before its time.
      const again = await cli("sync", "--once", "--json");
      assert.equal(JSON.parse(again.stdout).rejectedTotal, 1);

      await sql`ALTER TABLE vehicles DROP CONSTRAINT for_a_while`;
      const forced = await cli("sync", "--once", "--retry-rejected", "--json");
      assert.equal(forced.code, 0, forced.stderr);
      const report = JSON.parse(forced.stdout);
      assert.deepEqual(
        [report.requeued, report.sent, report.rejected, report.rejectedTotal],
        [1, 1, 0, 0],
      );
      assert.deepEqual(await plates(sql), ["AB00050", "TMP002"]);
    } finally {
      await closePg(sql, 2000);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
