import assert from "node:assert/strict";
import { Logger } from "../../src/log/mod.ts";
import type { FinalEvent } from "../../src/shared/mod.ts";
import { Outbox } from "../../src/sink/outbox.ts";
import { closePg, connectPg } from "../../src/sink/pg_client.ts";
import { ensureDatabase, migratePg } from "../../src/sink/pg_schema.ts";
import { syncOnce } from "../../src/sink/sync.ts";
import { startPgCluster } from "../support/pg_cluster.ts";

const quiet = new Logger({ sink: () => {} });
const CHILD = new URL("./testdata/sync_then_hang.ts", import.meta.url);
const CONFIG = new URL("../../deno.json", import.meta.url);

function makeEvent(i: number): FinalEvent {
  return {
    eventKey: `kill-clip:${i}`,
    videoId: "kill-clip",
    trackId: i,
    frameIdx: i,
    ts: new Date(Date.UTC(2025, 8, 1) + i * 500).toISOString(),
    finalPlate: `KL${i}`,
    plateConfidence: 0.9,
    carBbox: [0, 0, 100, 80],
    plateBbox: [10, 50, 40, 60],
  };
}

/**
 * Reads the child's stdout until a line starts with `prefix`, then cancels
 * the stream (the cancel reaches the child's pipe).
 */
async function readLineStartingWith(
  stream: ReadableStream<Uint8Array>,
  prefix: string,
): Promise<string> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  while (true) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`Child exited before printing ${prefix}`);
    buffered += value;
    const line = buffered.split("\n").find((l) => l.startsWith(prefix));
    if (line !== undefined) {
      await reader.cancel();
      return line;
    }
  }
}

Deno.test(
  "`syncOnce()` after a SIGKILL between COMMIT and markSent sends no duplicate",
  async () => {
    await using cluster = await startPgCluster();
    await ensureDatabase(cluster.url, "kill_db", { log: quiet });
    const url = cluster.urlFor("kill_db");
    const sql = connectPg({ url, log: quiet });
    const dir = await Deno.makeTempDir({ prefix: "sync_kill_" });
    const outboxPath = `${dir}/outbox.db`;
    try {
      await migratePg(sql, { log: quiet });
      const total = 2_000;
      const setup = Outbox.open(outboxPath);
      setup.addMany(Array.from({ length: total }, (_, i) => makeEvent(i)));
      setup.close();

      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-all",
          "--no-prompt",
          `--config=${CONFIG.pathname}`,
          CHILD.pathname,
          outboxPath,
          url,
          "3",
          "400",
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      const line = await readLineStartingWith(child.stdout, "COMMITTED");
      assert.equal(line, "COMMITTED 400 801-1200");
      child.kill("SIGKILL");
      const status = await child.status;
      assert.equal(status.signal, "SIGKILL");

      // Batch 3 is in Postgres but the outbox still has it pending.
      const [before] = await sql<{ n: number }[]>`
        SELECT count(*)::int AS n FROM vehicles`;
      assert.equal(before?.n, 1200);
      const outbox = Outbox.open(outboxPath);
      try {
        assert.equal(outbox.pendingCount(), total - 800);
        const result = await syncOnce(outbox, sql, {
          deviceId: "parent",
          log: quiet,
          batchSize: 400,
          pullAlerts: false,
        });
        assert.deepEqual(result, {
          sent: total - 1200,
          duplicates: 400,
          rejected: 0,
          alertsPushed: 0,
          alerts: null,
        });
        assert.equal(outbox.pendingCount(), 0);
      } finally {
        outbox.close();
      }
      const [after] = await sql<
        { n: number; keys: number; child: number; parent: number }[]
      >`
        SELECT count(*)::int AS n, count(DISTINCT event_key)::int AS keys,
          count(*) FILTER (WHERE device_id = 'child')::int AS child,
          count(*) FILTER (WHERE device_id = 'parent')::int AS parent
        FROM vehicles`;
      assert.deepEqual({ ...after }, {
        n: total,
        keys: total,
        child: 1200,
        parent: total - 1200,
      });
    } finally {
      await closePg(sql, 2000);
      await Deno.remove(dir, { recursive: true });
    }
  },
);
