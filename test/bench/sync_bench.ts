/**
 * Bench: rows/s syncing a 100,000-row outbox backlog to a throwaway cluster,
 * and the process's peak RSS while doing it.
 *
 * Run: deno run --allow-all test/bench/sync_bench.ts [ROWS] [BATCH] [--durable]
 *
 * @module
 */
import { Logger } from "../../src/log/mod.ts";
import type { FinalEvent } from "../../src/shared/mod.ts";
import { Outbox } from "../../src/sink/outbox.ts";
import { closePg, connectPg } from "../../src/sink/pg_client.ts";
import { ensureDatabase, migratePg } from "../../src/sink/pg_schema.ts";
import { syncOnce } from "../../src/sink/sync.ts";
import { startPgCluster } from "../support/pg_cluster.ts";

const positional = Deno.args.filter((a) => !a.startsWith("--"));
const rows = Number(positional[0] ?? 100_000);
const batchSize = Number(positional[1] ?? 500);
const durable = Deno.args.includes("--durable");
const quiet = new Logger({ sink: () => {} });
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

function* events(count: number): Generator<FinalEvent> {
  for (let i = 0; i < count; i++) {
    yield {
      eventKey: `bench-${Math.floor(i / 50)}:${i}`,
      videoId: `bench-${Math.floor(i / 50)}`,
      trackId: i,
      frameIdx: i % 3000,
      ts: new Date(Date.UTC(2025, 0, 1) + i * 250).toISOString(),
      finalPlate: `B${(i * 7919 % 1_000_000).toString().padStart(6, "0")}`,
      plateConfidence: (i % 97) / 97,
      carBbox: [i % 1280, i % 720, (i % 1280) + 200, (i % 720) + 150],
      plateBbox: [
        (i % 1280) + 60,
        (i % 720) + 100,
        (i % 1280) + 140,
        (i % 720) + 125,
      ],
      evidence: `crops/${i}.jpg`,
    };
  }
}

await using cluster = await startPgCluster({ durable });
await ensureDatabase(cluster.url, "bench", { log: quiet });
const sql = connectPg({ url: cluster.urlFor("bench"), log: quiet, max: 2 });
await migratePg(sql, { log: quiet });
const dir = await Deno.makeTempDir({ prefix: "sync_bench_" });
const outbox = Outbox.open(`${dir}/outbox.db`);

const fillStart = performance.now();
outbox.addMany(events(rows));
const fillMs = performance.now() - fillStart;

// Warm the connection (and JIT) outside the timed pass.
await sql`SELECT 1`;
const rssBefore = Deno.memoryUsage().rss;
let peakRss = rssBefore;
const sample = () => {
  const rss = Deno.memoryUsage().rss;
  if (rss > peakRss) peakRss = rss;
};
const sampler = setInterval(sample, 10);

const start = performance.now();
const result = await syncOnce(outbox, sql, {
  deviceId: "bench",
  batchSize,
  log: quiet,
  pullAlerts: false,
  hooks: { afterCommit: sample },
});
const ms = performance.now() - start;
clearInterval(sampler);
sample();

const [count] = await sql<
  { n: number }[]
>`SELECT count(*)::int AS n FROM vehicles`;
console.log(JSON.stringify({
  rows,
  batchSize,
  durable,
  fillMs: Math.round(fillMs),
  syncMs: Math.round(ms),
  rowsPerS: Math.round(result.sent / (ms / 1000)),
  sent: result.sent,
  inPostgres: count?.n,
  pendingAfter: outbox.pendingCount(),
  rssBeforeMb: mb(rssBefore),
  peakRssMb: mb(peakRss),
  deltaRssMb: mb(peakRss - rssBefore),
}));
outbox.close();
await closePg(sql, 2000);
await Deno.remove(dir, { recursive: true });
