/**
 * The sync process survives many PostgreSQL restarts (immediate and fast
 * shutdowns, while batches are in flight) and every event arrives exactly
 * once. Covers the postgres.js reconnect path end to end (the array-type
 * query the driver runs on a new connection, sockets the driver drops);
 * pg_type_fetch_test.ts and pg_socket_guard_test.ts reproduce each fault
 * deterministically.
 */
import assert from "node:assert/strict";
import { Logger } from "../../src/log/mod.ts";
import { closePg, connectPg } from "../../src/sink/pg_client.ts";
import { ensureDatabase, migratePg } from "../../src/sink/pg_schema.ts";
import { startPgCluster } from "../support/pg_cluster.ts";

const quiet = new Logger({ sink: () => {} });
const CHILD = new URL("./testdata/sync_through_restarts.ts", import.meta.url);
const CONFIG = new URL("../../deno.json", import.meta.url);
const RESTARTS = Number(Deno.env.get("DASHCAM_TEST_PG_RESTARTS") ?? "30");

Deno.test(`the sync loop survives ${RESTARTS} server restarts and every event arrives once`, async () => {
  await using cluster = await startPgCluster();
  await ensureDatabase(cluster.url, "restarts", { log: quiet });
  const url = cluster.urlFor("restarts");
  const setup = connectPg({ url, log: quiet });
  await migratePg(setup, { log: quiet });
  await closePg(setup, 2000);
  const dir = await Deno.makeTempDir({ prefix: "sync_restart_" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--no-prompt",
      `--config=${CONFIG.pathname}`,
      CHILD.pathname,
      `${dir}/outbox.db`,
      url,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  let exited = false;
  output.finally(() => exited = true);
  try {
    let seen = 0;
    for (let i = 0; i < RESTARTS && !exited; i++) {
      // Wait (bounded, by polling the server) until the child has sent
      // something since the last restart, so each restart hits live traffic.
      const probe = connectPg({ url, log: quiet, max: 1 });
      try {
        for (let poll = 0; poll < 2000 && !exited; poll++) {
          const n = await probe<{ n: number }[]>`
            SELECT count(*)::int AS n FROM vehicles`.then(
            (r) => r[0]!.n,
            () => seen,
          );
          if (n > seen) {
            seen = n;
            break;
          }
        }
      } finally {
        await closePg(probe, 2000);
      }
      await cluster.stop(i % 3 === 2 ? "fast" : "immediate");
      await cluster.start();
    }
  } finally {
    await child.stdin.close();
  }
  const out = await output;
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `child died: ${stderr.slice(-2000)}`);
  const match = /^DRAINED (\d+) pending=0/m.exec(stdout);
  assert.ok(match, stdout);
  const total = Number(match[1]);
  const check = connectPg({ url, log: quiet });
  try {
    const [row] = await check<{ n: number; keys: number }[]>`
      SELECT count(*)::int AS n, count(DISTINCT event_key)::int AS keys
      FROM vehicles`;
    assert.deepEqual({ ...row }, { n: total, keys: total });
  } finally {
    await closePg(check, 2000);
    await Deno.remove(dir, { recursive: true });
  }
});
