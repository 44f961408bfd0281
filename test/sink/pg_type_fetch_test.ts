/**
 * postgres.js loads the array types with a query of its own on a new
 * connection, from a promise nobody awaits; a connection that dies during
 * that query used to end the process with an unhandled rejection (seen when
 * the server restarts again right after a reconnect). Reproduced here by
 * terminating the backends that run that query.
 */
import assert from "node:assert/strict";
import { Logger } from "../../src/log/mod.ts";
import {
  closePg,
  connectPg,
  isDriverTypeFetchError,
} from "../../src/sink/pg_client.ts";
import { startPgCluster } from "../support/pg_cluster.ts";

const quiet = new Logger({ sink: () => {} });

Deno.test("a connection killed while postgres.js loads its array types does not end the process", async () => {
  await using cluster = await startPgCluster();
  const admin = connectPg({ url: cluster.url, log: quiet, max: 1 });
  let stop = false;
  let kills = 0;
  const killer = (async () => {
    while (!stop) {
      const [row] = await admin<{ n: number }[]>`
        SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n
        FROM pg_stat_activity
        WHERE pid <> pg_backend_pid() AND state = 'active'
          AND query LIKE '%typcategory%'`.catch(() => [{ n: 0 }]);
      kills += row?.n ?? 0;
    }
  })();
  const lines: string[] = [];
  const log = new Logger({ level: "debug", sink: (l) => lines.push(l) });
  const guarded = () =>
    lines.filter((l) => l.includes("died while loading array types")).length;
  let clients = 0;
  try {
    // Fresh clients (each loads the types on its first connection) until
    // the race was hit a few times; bounded.
    while (clients < 600 && guarded() < 3) {
      clients += 1;
      const sql = connectPg({ url: cluster.url, log, max: 1 });
      try {
        let value: unknown = null;
        for (let attempt = 0; attempt < 10 && value === null; attempt++) {
          value = await sql<{ one: number }[]>`SELECT 1 AS one`
            .then((r) => r[0]!.one, () => null);
        }
        assert.equal(value, 1); // the client recovers
      } finally {
        await closePg(sql, 2000);
      }
    }
  } finally {
    stop = true;
    await killer;
    await closePg(admin, 2000);
  }
  assert.ok(kills > 0, "the killer never hit the type query");
  assert.ok(
    guarded() >= 1,
    `the race was not hit in ${clients} clients (kills=${kills})`,
  );
});

Deno.test("a client loads the array types once, not on every reconnect", async () => {
  await using cluster = await startPgCluster();
  const sql = connectPg({ url: cluster.url, log: quiet, max: 1 });
  try {
    const options = (sql as unknown as { options: { fetch_types: boolean } })
      .options;
    assert.equal(options.fetch_types, true);
    await sql`SELECT 1`;
    assert.equal(options.fetch_types, false);
    await cluster.stop("immediate");
    await cluster.start();
    let p: unknown = null;
    for (let attempt = 0; attempt < 20 && p === null; attempt++) {
      p = await sql<{ p: number[] }[]>`SELECT ${[1, 2]}::int[] AS p`
        .then((r) => r[0]!.p, () => null);
    }
    assert.deepEqual(p, [1, 2]);
  } finally {
    await closePg(sql, 2000);
  }
});

Deno.test("`isDriverTypeFetchError()` takes only the driver's type query", () => {
  const typeQuery = Object.assign(new Error("terminating connection"), {
    query: "\n select b.oid, b.typarray from pg_catalog.pg_type a left join " +
      "pg_catalog.pg_type b on b.oid = a.typelem where a.typcategory = 'A'",
  });
  assert.equal(isDriverTypeFetchError(typeQuery), true);
  const ours = Object.assign(new Error("x"), { query: "SELECT 1" });
  assert.equal(isDriverTypeFetchError(ours), false);
  assert.equal(isDriverTypeFetchError(new Error("no query")), false);
  assert.equal(isDriverTypeFetchError("a string"), false);
});
