/**
 * One process of the simulated fleet: drives `count` devices, each with its
 * own `outbox.db`, device id, Postgres client and the product's `SyncLoop`
 * (built as the daemon builds it: `connectFleet`, `checkFleet` before the
 * first pass, `pg.batch_size`), all at once in this process.
 *
 * Protocol (see `spawnFleetDevices` in fleet_sim.ts):
 * 1. fills each outbox with its backlog, prints `READY`;
 * 2. on a `GO` line on stdin, starts every sync loop;
 * 3. with `live`, adds 1-3 events to a random device every 20 ms (and kicks
 *    its loop, as the daemon does for a new event) until a `DRAIN` line or
 *    the end of stdin;
 * 4. waits until every outbox is drained (bounded: 3000 polls of 20 ms plus
 *    the loops' own backoff), stops the loops, prints one JSON line
 *    ({@linkcode FleetDevicesSummary}) and exits 0, or 3 when rows are
 *    still pending.
 *
 * Usage: fleet_devices.ts '<FleetDevicesArgs as JSON>'
 *
 * @module
 */
import { DEFAULTS } from "../../src/config/mod.ts";
import { Logger } from "../../src/log/mod.ts";
import {
  checkFleet,
  closePg,
  connectFleet,
  Outbox,
  type PgSql,
  SyncLoop,
} from "../../src/sink/mod.ts";
import {
  deviceEvents,
  fleetDeviceId,
  type FleetDevicesArgs,
  type FleetDevicesSummary,
} from "./fleet_sim.ts";
import { prng } from "./random.ts";

const args = JSON.parse(Deno.args[0] ?? "null") as FleetDevicesArgs | null;
if (!args) throw new TypeError("Usage: fleet_devices.ts '<json>'");
const random = prng(args.seed ^ (args.first * 7919));
const jitter = prng(args.seed ^ (args.first * 104729));
const between = (lo: number, hi: number) =>
  lo + Math.floor(random() * (hi - lo + 1));

const warnings: string[] = [];
let warningCount = 0;
const log = new Logger({
  level: "warn",
  sink: (line) => {
    warningCount += 1;
    warnings.push(line);
    if (warnings.length > 5) warnings.shift();
  },
});

interface Device {
  index: number;
  id: string;
  outbox: Outbox;
  sql: PgSql;
  loop: SyncLoop;
  added: number;
}

let passes = 0;
let failedPasses = 0;
const devices: Device[] = [];
for (let i = 0; i < args.count; i++) {
  const index = args.first + i;
  const id = fleetDeviceId(index);
  await Deno.mkdir(`${args.dir}/${id}`, { recursive: true });
  const outbox = Outbox.open(`${args.dir}/${id}/outbox.db`, { log });
  const backlog = between(args.backlog[0], args.backlog[1]);
  outbox.addMany(deviceEvents(args.seed, index, { from: 0, count: backlog }));
  const pg = {
    ...DEFAULTS.pg,
    url: args.url,
    device_id: id,
    batch_size: between(args.batch[0], args.batch[1]),
  };
  const sql = connectFleet(pg, { log });
  const loop = new SyncLoop(outbox, sql, {
    deviceId: pg.device_id,
    batchSize: pg.batch_size,
    // A real vehicle waits 30 s between idle passes; new events kick it.
    intervalMs: 1000,
    minDelayMs: 50,
    maxDelayMs: 1000,
    queryTimeoutMs: 15_000,
    log,
    random: jitter,
    onPass: (outcome) => {
      passes += 1;
      if (!outcome.ok) failedPasses += 1;
    },
    prepare: async () => {
      await checkFleet(sql, { pg });
    },
  });
  devices.push({ index, id, outbox, sql, loop, added: backlog });
}
console.log("READY");

const stdin = (async function* () {
  const dec = new TextDecoder();
  let buf = "";
  for await (const chunk of Deno.stdin.readable) {
    buf += dec.decode(chunk, { stream: true });
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, nl);
      buf = buf.slice(nl + 1);
    }
  }
})();
const next = async (): Promise<string | null> => {
  const r = await stdin.next();
  return r.done ? null : r.value;
};
while (true) {
  const line = await next();
  if (line === null) Deno.exit(2); // closed before GO
  if (line === "GO") break;
}
const startedAt = Date.now();
for (const d of devices) d.loop.start();

const pendingTotal = () =>
  devices.reduce((n, d) => n + d.outbox.pendingCount(), 0);
let drainedAt: number | null = null;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (args.live) {
  let draining = false;
  (async () => {
    while (true) {
      const line = await next();
      if (line === null || line === "DRAIN") break;
    }
    draining = true;
  })();
  // New events arrive while the backlog syncs: this is load, not
  // synchronisation, so a timer is right here.
  while (!draining) {
    const d = devices[Math.floor(random() * devices.length)]!;
    const k = between(1, 3);
    d.outbox.addMany(
      deviceEvents(args.seed, d.index, { from: d.added, count: k }),
    );
    d.added += k;
    d.loop.kick();
    await pause(20);
  }
}
// Drain: bounded by polls; the loops pass at least every second.
for (let poll = 0; poll < 3000; poll++) {
  if (pendingTotal() === 0) {
    drainedAt = Date.now();
    break;
  }
  await pause(20);
}
await Promise.all(devices.map((d) => d.loop.stop()));
const pending = pendingTotal();
await Promise.all(devices.map((d) => closePg(d.sql, 2000)));
for (const d of devices) d.outbox.close();
const summary: FleetDevicesSummary = {
  devices: devices.length,
  events: devices.reduce((n, d) => n + d.added, 0),
  pending,
  passes,
  failedPasses,
  startedAt,
  drainedAt,
  warnings: warningCount,
  lastWarnings: warnings,
};
console.log(JSON.stringify(summary));
Deno.exit(pending === 0 ? 0 : 3);
