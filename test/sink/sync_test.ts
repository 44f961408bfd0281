import assert from "node:assert/strict";
import { Logger } from "../../src/log/mod.ts";
import type { FinalEvent } from "../../src/shared/mod.ts";
import { Outbox } from "../../src/sink/outbox.ts";
import {
  closePg,
  connectPg,
  describePgError,
  type PgSql,
} from "../../src/sink/pg_client.ts";
import { ensureDatabase, migratePg } from "../../src/sink/pg_schema.ts";
import {
  backoffDelay,
  SyncLoop,
  syncOnce,
  type SyncPassOutcome,
} from "../../src/sink/sync.ts";
import { type PgCluster, startPgCluster } from "../support/pg_cluster.ts";

const quiet = new Logger({ sink: () => {} });

/** Event `i`; `bad` ones have an empty plate, refused by the test CHECK. */
function makeEvent(i: number, bad = false): FinalEvent {
  return {
    eventKey: `clip-${Math.floor(i / 100)}:${i}`,
    videoId: `clip-${Math.floor(i / 100)}`,
    trackId: i,
    frameIdx: i % 1000,
    ts: new Date(Date.UTC(2025, 5, 1) + i * 1000).toISOString(),
    finalPlate: bad ? "" : `AB${String(i).padStart(5, "0")}`,
    plateConfidence: (i % 100) / 100,
    carBbox: [i, i + 1, i + 100, i + 80],
    plateBbox: [i + 10, i + 50, i + 40, i + 60],
  };
}

interface Fixture {
  outbox: Outbox;
  sql: PgSql;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A fresh database (migrated, with the test-only CHECK) and outbox. */
async function fixture(
  cluster: PgCluster,
  name: string,
  count: number,
  badIndexes: number[] = [],
): Promise<Fixture> {
  await ensureDatabase(cluster.url, name, { log: quiet });
  const sql = connectPg({ url: cluster.urlFor(name), log: quiet });
  await migratePg(sql, { log: quiet });
  // Only in the test database: an empty plate is a data error (23514).
  await sql`ALTER TABLE vehicles
    ADD CONSTRAINT test_plate_not_empty CHECK (final_plate <> '')`;
  const dir = await Deno.makeTempDir({ prefix: "sync_test_" });
  const outbox = Outbox.open(`${dir}/outbox.db`);
  const bad = new Set(badIndexes);
  const events: FinalEvent[] = [];
  for (let i = 0; i < count; i++) events.push(makeEvent(i, bad.has(i)));
  outbox.addMany(events);
  return {
    outbox,
    sql,
    async [Symbol.asyncDispose]() {
      outbox.close();
      await closePg(sql, 2000);
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Retries `SELECT 1` until the client has reconnected (no sleeping). */
async function reconnected(sql: PgSql): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    if (await sql`SELECT 1`.then(() => true, () => false)) return;
  }
  throw new Error("Client did not reconnect after 20 attempts");
}

async function pgCounts(
  sql: PgSql,
): Promise<{ rows: number; keys: number }> {
  const [row] = await sql<{ rows: number; keys: number }[]>`
    SELECT count(*)::int AS rows, count(DISTINCT event_key)::int AS keys
    FROM vehicles`;
  return { rows: row!.rows, keys: row!.keys };
}

async function assertExactlyOnce(
  sql: PgSql,
  outbox: Outbox,
  expectedKeys: string[],
): Promise<void> {
  assert.deepEqual(await pgCounts(sql), {
    rows: expectedKeys.length,
    keys: expectedKeys.length,
  });
  const keys = await sql<{ event_key: string }[]>`
    SELECT event_key FROM vehicles ORDER BY event_key`;
  assert.deepEqual(
    keys.map((r) => r.event_key),
    [...expectedKeys].sort(),
  );
  assert.equal(outbox.pendingCount(), 0);
}

Deno.test("syncOnce and SyncLoop against a real server", async (t) => {
  await using cluster = await startPgCluster();
  const total = 10_000;
  const badIndex = 7_000; // id 7001: in batch 15 of 500
  const goodKeys = Array.from({ length: total + 1 }, (_, i) => i)
    .filter((i) => i !== badIndex)
    .map((i) => makeEvent(i).eventKey);

  await t.step(
    "a crash after COMMIT with the server stopped: every row arrives once",
    async () => {
      await using f = await fixture(cluster, "crash_after_commit", total + 1, [
        badIndex,
      ]);
      let batches = 0;
      await assert.rejects(
        syncOnce(f.outbox, f.sql, {
          deviceId: "van-1",
          log: quiet,
          pullAlerts: false,
          hooks: {
            afterCommit: async () => {
              batches += 1;
              if (batches === 5) {
                await cluster.stop("immediate");
                throw new Error("simulated crash after commit");
              }
            },
          },
        }),
        { message: "simulated crash after commit" },
      );
      // Batches 1-4 marked sent; batch 5 committed but not marked.
      assert.equal(f.outbox.pendingCount(), total + 1 - 2000);

      await cluster.start();
      await reconnected(f.sql);
      assert.deepEqual(await pgCounts(f.sql), { rows: 2500, keys: 2500 });

      const result = await syncOnce(f.outbox, f.sql, {
        deviceId: "van-1",
        log: quiet,
        pullAlerts: false,
      });
      assert.deepEqual(result, {
        sent: total - 2500,
        duplicates: 500,
        rejected: 1,
        alertsPushed: 0,
        alerts: null,
      });
      await assertExactlyOnce(f.sql, f.outbox, goodKeys);
      const stats = f.outbox.stats();
      assert.equal(stats.rejected, 1);
      assert.equal(stats.sent, total);
      const set = f.outbox.db.prepare(
        "SELECT event_key, last_error FROM events WHERE rejected_at IS NOT NULL",
      ).all() as Array<{ event_key: string; last_error: string }>;
      assert.equal(set.length, 1);
      assert.equal(set[0]!.event_key, makeEvent(badIndex).eventKey);
      assert.match(
        set[0]!.last_error,
        /^23514 new row for relation "vehicles" violates check constraint "test_plate_not_empty"/,
      );
      const [device] = await f.sql<{ devices: string[] }[]>`
        SELECT array_agg(DISTINCT device_id) AS devices FROM vehicles`;
      assert.deepEqual(device?.devices, ["van-1"]);
    },
  );

  await t.step(
    "a server stopped before a batch: the pass fails, the batch stays pending",
    async () => {
      await using f = await fixture(cluster, "stopped_between", total);
      let batches = 0;
      const failure = await syncOnce(f.outbox, f.sql, {
        deviceId: "van-2",
        log: quiet,
        pullAlerts: false,
        hooks: {
          afterCommit: async () => {
            batches += 1;
            if (batches === 3) await cluster.stop("immediate");
          },
        },
      }).then(() => null, (err: unknown) => err);
      assert.notEqual(failure, null);
      const line = describePgError(failure, {
        url: cluster.urlFor("stopped_between"),
      });
      assert.match(
        line,
        new RegExp(`127\\.0\\.0\\.1:${cluster.port} \\(pg\\.url\\)`),
      );
      assert.equal(f.outbox.pendingCount(), total - 1500);
      // Batch 4 (ids 1501-2000) carries the failed attempt.
      const attempts = f.outbox.db.prepare(
        `SELECT min(id) AS lo, max(id) AS hi, count(*) AS n FROM events
         WHERE sync_attempts = 1 AND sent_at IS NULL`,
      ).get() as { lo: number; hi: number; n: number };
      assert.deepEqual({ ...attempts }, { lo: 1501, hi: 2000, n: 500 });

      await cluster.start();
      await reconnected(f.sql);
      const result = await syncOnce(f.outbox, f.sql, {
        deviceId: "van-2",
        log: quiet,
        pullAlerts: false,
      });
      assert.equal(result.sent, total - 1500);
      assert.equal(result.duplicates, 0);
      await assertExactlyOnce(
        f.sql,
        f.outbox,
        Array.from({ length: total }, (_, i) => makeEvent(i).eventKey),
      );
    },
  );

  await t.step(
    "a server killed while a batch is in flight: every row arrives once",
    async () => {
      await using f = await fixture(cluster, "killed_in_flight", total);
      let batches = 0;
      let stopping: Promise<void> | null = null;
      await syncOnce(f.outbox, f.sql, {
        deviceId: "van-3",
        log: quiet,
        pullAlerts: false,
        batchSize: 250,
        hooks: {
          afterCommit: () => {
            batches += 1;
            // Not awaited: the shutdown races the next INSERTs.
            if (batches === 2) stopping = cluster.stop("immediate");
          },
        },
      }).catch(() => null);
      await stopping;
      await cluster.start();
      await reconnected(f.sql);
      // Finish with as many passes as it takes (each resends what is left).
      for (let pass = 0; pass < 5 && f.outbox.pendingCount() > 0; pass++) {
        await syncOnce(f.outbox, f.sql, {
          deviceId: "van-3",
          log: quiet,
          pullAlerts: false,
        }).catch(() => null);
      }
      await assertExactlyOnce(
        f.sql,
        f.outbox,
        Array.from({ length: total }, (_, i) => makeEvent(i).eventKey),
      );
    },
  );

  await t.step(
    "a server that goes silent mid-INSERT: the pass times out, the late commit is not duplicated",
    async () => {
      await using f = await fixture(cluster, "silent", 2000);
      // Freeze (SIGSTOP) the backends of the sync client: the socket stays
      // open but nothing answers, like a dead mobile link.
      const admin = connectPg({ url: cluster.url, log: quiet, max: 1 });
      const pids = (await admin<{ pid: number }[]>`
        SELECT pid FROM pg_stat_activity
        WHERE datname = 'silent' AND application_name = 'dashcam'`)
        .map((r) => r.pid);
      await closePg(admin, 2000);
      assert.ok(pids.length >= 1);
      for (const pid of pids) Deno.kill(pid, "SIGSTOP");
      let failure: unknown = null;
      try {
        await syncOnce(f.outbox, f.sql, {
          deviceId: "van-7",
          log: quiet,
          pullAlerts: false,
          queryTimeoutMs: 300,
        });
      } catch (err) {
        failure = err;
      } finally {
        for (const pid of pids) Deno.kill(pid, "SIGCONT");
      }
      assert.equal(
        describePgError(failure, { url: cluster.urlFor("silent") }),
        `No answer from Postgres at 127.0.0.1:${cluster.port} (pg.url): ` +
          "query timed out after 0.3 s (inserting 500 rows), will retry",
      );
      assert.equal(f.outbox.pendingCount(), 2000);
      // The frozen INSERT of batch 1 commits once thawed; the next pass
      // finds its rows already there.
      const result = await syncOnce(f.outbox, f.sql, {
        deviceId: "van-7",
        log: quiet,
        pullAlerts: false,
      });
      assert.equal(result.sent + result.duplicates, 2000);
      assert.equal(result.duplicates, 500);
      await assertExactlyOnce(
        f.sql,
        f.outbox,
        Array.from({ length: 2000 }, (_, i) => makeEvent(i).eventKey),
      );
    },
  );

  await t.step(
    "`syncOnce()` pushes locally matched alert ids and pulls active alerts",
    async () => {
      await using f = await fixture(cluster, "alerts", 3);
      await f.sql`INSERT INTO alerts (plate, match, note, active) VALUES
        ('AB00001', 'exact', 'stolen', true),
        ('ZZ1', 'fuzzy1', 'old case', false),
        ('AB0000', 'fuzzy1', 'watch', true)`;
      // Matched before the first send: goes in with the INSERT.
      f.outbox.markAlert(makeEvent(0).eventKey, 3);
      const first = await syncOnce(f.outbox, f.sql, {
        deviceId: "van-4",
        log: quiet,
      });
      assert.equal(first.sent, 3);
      assert.equal(first.alertsPushed, 1); // confirmed by the push step
      assert.equal(first.alerts, 2); // inactive alert 2 not pulled
      assert.deepEqual(f.outbox.alerts().map((a) => [a.id, a.plate]), [
        [1, "AB00001"],
        [3, "AB0000"],
      ]);
      // Matched after the send: pushed as an UPDATE.
      const hit = f.outbox.matchAlert(makeEvent(1).finalPlate);
      assert.equal(hit?.id, 1);
      f.outbox.markAlert(makeEvent(1).eventKey, hit!.id);
      const second = await syncOnce(f.outbox, f.sql, {
        deviceId: "van-4",
        log: quiet,
      });
      assert.deepEqual(second, {
        sent: 0,
        duplicates: 0,
        rejected: 0,
        alertsPushed: 1,
        alerts: 2,
      });
      const rows = await f.sql<
        { event_key: string; alert_id: number | null }[]
      >`
        SELECT event_key, alert_id FROM vehicles ORDER BY id`;
      assert.deepEqual(rows.map((r) => r.alert_id), [3, 1, null]);
    },
  );

  await t.step(
    "`SyncLoop` backs off with full jitter and records the error while the server is down",
    async () => {
      const dir = await Deno.makeTempDir({ prefix: "sync_loop_" });
      const outbox = Outbox.open(`${dir}/outbox.db`);
      outbox.add(makeEvent(1));
      const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const deadPort = (listener.addr as Deno.NetAddr).port;
      listener.close();
      const url = `postgres://u:${cluster.password}@127.0.0.1:${deadPort}/x`;
      const sql = connectPg({ url, log: quiet });
      const lines: string[] = [];
      const log = new Logger({ sink: (l) => lines.push(l) });
      const delays: number[] = [];
      const stopped = Promise.withResolvers<void>();
      const loop: SyncLoop = new SyncLoop(outbox, sql, {
        deviceId: "van-5",
        minDelayMs: 100,
        maxDelayMs: 1000,
        random: () => 0.5,
        log,
        sleep: (ms) => {
          delays.push(ms);
          if (delays.length === 4) loop.stop().then(stopped.resolve);
          return Promise.resolve();
        },
      });
      loop.start();
      await stopped.promise;
      // min + 0.5 * (min(max, min * 2^n) - min) for n = 1..4.
      assert.deepEqual(delays, [150, 250, 450, 550]);
      assert.equal(loop.failures, 4);
      assert.equal(loop.running, false);
      const expected =
        `Cannot reach Postgres at 127.0.0.1:${deadPort} (pg.url): connection refused, is the server running and listening there?`;
      assert.equal(outbox.stats().lastError, expected);
      assert.equal(outbox.nextBatch(1)[0]?.syncAttempts, 4);
      assert.equal(lines.length, 4);
      for (const line of lines) {
        assert.ok(line.includes(expected), line);
        assert.equal(line.includes(cluster.password), false);
      }
      outbox.close();
      await closePg(sql, 2000);
      await Deno.remove(dir, { recursive: true });
    },
  );

  await t.step(
    "`SyncLoop` waits `intervalMs` after a good pass and a `kick()` cuts it short",
    async () => {
      await using f = await fixture(cluster, "loop", 3);
      const at = new Date("2025-07-01T12:00:00.000Z");
      const sleeps: number[] = [];
      const outcomes: SyncPassOutcome[] = [];
      let passDone = Promise.withResolvers<void>();
      const loop = new SyncLoop(f.outbox, f.sql, {
        deviceId: "van-6",
        intervalMs: 60_000,
        log: quiet,
        now: () => at,
        onPass: (outcome) => {
          outcomes.push(outcome);
          passDone.resolve();
        },
        sleep: (ms, signal) => {
          sleeps.push(ms);
          return new Promise((resolve) => {
            if (signal.aborted) resolve();
            signal.addEventListener("abort", () => resolve(), { once: true });
          });
        },
      });
      loop.start();
      await passDone.promise;
      passDone = Promise.withResolvers<void>();
      assert.deepEqual(outcomes[0], {
        ok: true,
        at: at.toISOString(),
        result: {
          sent: 3,
          duplicates: 0,
          rejected: 0,
          alertsPushed: 0,
          alerts: 0,
        },
      });
      f.outbox.add(makeEvent(3));
      f.outbox.add(makeEvent(4));
      loop.kick();
      await passDone.promise;
      assert.equal(outcomes.length, 2);
      assert.equal(outcomes[1]?.ok && outcomes[1].result.sent, 2);
      // One sleep after each pass; the first was cut short by the kick.
      assert.deepEqual(sleeps, [60_000, 60_000]);
      await loop.stop();
      assert.equal(outcomes.length, 2);
      assert.equal(f.outbox.stats().lastSuccessAt, at.toISOString());
      assert.deepEqual(await pgCounts(f.sql), { rows: 5, keys: 5 });
    },
  );

  await t.step("`SyncLoop` ends when its `signal` aborts", async () => {
    await using f = await fixture(cluster, "loop_abort", 1);
    const controller = new AbortController();
    let sawAbortInSleep = false;
    let passes = 0;
    const slept = Promise.withResolvers<void>();
    const loop = new SyncLoop(f.outbox, f.sql, {
      deviceId: "van-8",
      log: quiet,
      signal: controller.signal,
      onPass: () => passes++,
      sleep: (_ms, signal) => {
        controller.abort();
        sawAbortInSleep = signal.aborted; // the abort reached the sleep
        slept.resolve();
        return Promise.resolve();
      },
    });
    loop.start();
    assert.equal(loop.running, true);
    await slept.promise;
    await loop.stop();
    assert.equal(sawAbortInSleep, true);
    assert.equal(passes, 1);
    assert.equal(loop.running, false);
    // An aborted signal keeps a new loop from starting at all.
    const idle = new SyncLoop(f.outbox, f.sql, {
      deviceId: "van-8",
      signal: controller.signal,
    });
    idle.start();
    assert.equal(idle.running, false);
  });

  await t.step("`backoffDelay()` stays within min and max", () => {
    const opts = { minDelayMs: 1000, maxDelayMs: 300_000 };
    assert.equal(backoffDelay(1, { ...opts, random: () => 0 }), 1000);
    assert.equal(backoffDelay(1, { ...opts, random: () => 0.999 }), 1999);
    assert.equal(backoffDelay(50, { ...opts, random: () => 1 }), 300_000);
    assert.equal(backoffDelay(3, { ...opts, random: () => 0.25 }), 2750);
  });
});
