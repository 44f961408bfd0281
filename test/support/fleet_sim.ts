/**
 * A simulated fleet for the load test and the bench: device ids, each
 * device's events (the same for the same seed, so a failing run can be
 * replayed), reading back what a device's outbox holds, and starting the
 * processes that drive the devices' sync loops (`fleet_devices.ts`).
 *
 * @module
 */
import type { FinalEvent } from "../../src/shared/mod.ts";
import { Outbox } from "../../src/sink/outbox.ts";
import { DASHCAM_FLAGS } from "./cli.ts";
import { prng } from "./random.ts";

/** Vehicles seen per simulated clip (track ids 1..8). */
const TRACKS_PER_CLIP = 8;

/** Letters of plates (no I, O, Q: many plate formats leave them out). */
const LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ";

/** Start of simulated time: 2026-11-01T06:00:00Z. */
const T0 = Date.UTC(2026, 10, 1, 6);

/**
 * Id of simulated device `index`: `van-0007`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(fleetDeviceId(7), "van-0007");
 * ```
 * @param index Device number, 0-based.
 * @returns The device id.
 */
export function fleetDeviceId(index: number): string {
  return `van-${index.toString().padStart(4, "0")}`;
}

/** A 32-bit hash of integers (for ids that depend on seed and position only). */
function mix(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  }
  return h;
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, "0");
}

/**
 * Events `from` .. `from + count - 1` of one device: a clip id per 8
 * events (16 hex digits, like a content hash), track ids 1..8, event keys
 * `${videoId}:${trackId}` as the product makes them, plates of 3 letters and
 * 4 digits, times 20 s apart from 2026-11-01T06:00Z, boxes in a 1920x1080
 * frame, and for nine in ten a GPS fix (lat/lon, speed, heading,
 * `timeSource: "gps"`). Event `n` of a device is always the same for the same seed.
 *
 * @param seed Run seed.
 * @param device Device number, 0-based.
 * @param range First event number and how many.
 * @returns The events.
 */
export function deviceEvents(
  seed: number,
  device: number,
  range: { from: number; count: number },
): FinalEvent[] {
  const events: FinalEvent[] = [];
  for (let n = range.from; n < range.from + range.count; n++) {
    const clip = Math.floor(n / TRACKS_PER_CLIP);
    const trackId = (n % TRACKS_PER_CLIP) + 1;
    const videoId = hex8(mix(seed, device, clip, 1)) +
      hex8(mix(seed, device, clip, 2));
    const random = prng(mix(seed, device, n, 3));
    const letters = Array.from(
      { length: 3 },
      () => LETTERS[Math.floor(random() * LETTERS.length)],
    ).join("");
    const digits = Math.floor(random() * 10_000).toString().padStart(4, "0");
    // Nine events in ten have a GPS fix: around one of ten cities, with a
    // whole-degree-free latitude so REAL/float8 round trips are exact.
    const fix = random() < 0.9;
    const lat = 40 + (device % 10) + Math.round(random() * 2 ** 20) / 2 ** 22;
    const lon = (device % 10) - 5 + Math.round(random() * 2 ** 20) / 2 ** 22;
    const x = Math.floor(random() * 1600);
    const y = Math.floor(random() * 800);
    const w = 120 + Math.floor(random() * 200);
    events.push({
      eventKey: `${videoId}:${trackId}`,
      videoId,
      trackId,
      frameIdx: Math.floor(random() * 300),
      ts: new Date(T0 + device * 7_000 + n * 20_000).toISOString(),
      finalPlate: letters + digits,
      plateConfidence: Math.round((0.6 + random() * 0.4) * 1000) / 1000,
      carBbox: [x, y, x + w, y + Math.floor(w * 0.75)],
      plateBbox: [
        x + w * 0.3,
        y + w * 0.5,
        x + w * 0.7,
        y + w * 0.6,
      ],
      ...(fix
        ? {
          lat,
          lon,
          speedKmh: Math.round(random() * 1200) / 10,
          headingDeg: Math.floor(random() * 360),
          timeSource: "gps",
        }
        : { timeSource: "camera_utc" }),
    });
  }
  return events;
}

/** What one device's outbox holds, read back after a run. */
export interface OutboxContents {
  /** Every event: key, plate and latitude (null without a fix). */
  events: Array<{ eventKey: string; finalPlate: string; lat: number | null }>;
  /** Events neither sent nor set aside. */
  pending: number;
  /** Events Postgres confirmed. */
  sent: number;
  /** Events set aside after a refusal. */
  rejected: number;
}

/**
 * Reads an outbox (read-only, as `status` does).
 *
 * @param path The outbox.db file.
 * @returns Its events and counts.
 */
export function readOutbox(path: string): OutboxContents {
  const outbox = Outbox.open(path, { readOnly: true });
  try {
    const stats = outbox.stats();
    const rows = outbox.db.prepare(
      "SELECT event_key, final_plate, lat FROM events ORDER BY id",
    ).all() as Array<
      { event_key: string; final_plate: string; lat: number | null }
    >;
    return {
      events: rows.map((r) => ({
        eventKey: r.event_key,
        finalPlate: r.final_plate,
        lat: r.lat,
      })),
      pending: stats.pending,
      sent: stats.sent,
      rejected: stats.rejected,
    };
  } finally {
    outbox.close();
  }
}

/** Arguments of one `fleet_devices.ts` process (passed as one JSON argument). */
export interface FleetDevicesArgs {
  /** Folder holding `<device id>/outbox.db`. */
  dir: string;
  /** Postgres URL the devices sync to (a device role). */
  url: string;
  /** First device number of this process. */
  first: number;
  /** Devices of this process. */
  count: number;
  /** Run seed. */
  seed: number;
  /** Smallest and largest backlog per device (events already in the outbox at start). */
  backlog: [number, number];
  /** Add events to random devices while syncing, until told to drain. */
  live: boolean;
  /** Smallest and largest `pg.batch_size` (each device picks one between). */
  batch: [number, number];
}

/** The one JSON line a `fleet_devices.ts` process prints at its end. */
export interface FleetDevicesSummary {
  /** Devices driven. */
  devices: number;
  /** Events put in the outboxes (backlog and live). */
  events: number;
  /** Events still pending at the end (0 on success). */
  pending: number;
  /** Sync passes, and passes that failed (server gone, reconnecting). */
  passes: number;
  /** Passes that failed. */
  failedPasses: number;
  /** Epoch ms when the sync loops started. */
  startedAt: number;
  /** Epoch ms when every outbox was first seen drained (null when never). */
  drainedAt: number | null;
  /** Warning/error lines logged by the product. */
  warnings: number;
  /** The last few of them. */
  lastWarnings: string[];
}

/** A running `fleet_devices.ts` process. */
export interface FleetProcess {
  /** Resolves when it printed READY (backlogs stored, loops built). */
  ready: Promise<void>;
  /** Sends GO: the sync loops start. */
  go(): Promise<void>;
  /** Sends DRAIN (live adding stops) and closes stdin. */
  drain(): Promise<void>;
  /** Resolves at exit with the code, its summary (if printed) and stderr. */
  done: Promise<
    { code: number; summary: FleetDevicesSummary | null; stderr: string }
  >;
  /** Whether it has exited. */
  readonly exited: boolean;
  /** Kills it (SIGKILL) if still running. */
  kill(): void;
}

const DEVICES_SCRIPT = new URL("./fleet_devices.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

/**
 * Starts one `fleet_devices.ts` process with the dashcam task's permissions.
 *
 * @param args Its devices, backlog, URL and seed.
 * @returns Handles to drive it.
 */
export function spawnFleetDevices(args: FleetDevicesArgs): FleetProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...DASHCAM_FLAGS,
      `--config=${CONFIG}`,
      DEVICES_SCRIPT,
      JSON.stringify(args),
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const enc = new TextEncoder();
  let exited = false;
  let signalReady: () => void = () => {};
  let failReady: (err: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    signalReady = resolve;
    failReady = reject;
  });
  ready.catch(() => {}); // also reported through `done`
  const stderrText = new Response(child.stderr).text();
  const stdoutLines: string[] = [];
  const stdoutDone = (async () => {
    const dec = new TextDecoder();
    let buf = "";
    for await (const chunk of child.stdout) {
      buf += dec.decode(chunk, { stream: true });
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        stdoutLines.push(line);
        if (line === "READY") signalReady();
      }
    }
    if (buf) stdoutLines.push(buf);
  })();
  const done = (async () => {
    const status = await child.status;
    exited = true;
    await stdoutDone;
    const stderr = await stderrText;
    failReady(
      new Error(`fleet_devices exited ${status.code} before READY: ${stderr}`),
    );
    const last = stdoutLines.findLast((l) => l.startsWith("{"));
    return {
      code: status.code,
      summary: last ? JSON.parse(last) as FleetDevicesSummary : null,
      stderr,
    };
  })();
  let closed = false;
  return {
    ready,
    async go() {
      await writer.write(enc.encode("GO\n"));
    },
    async drain() {
      if (closed) return;
      closed = true;
      try {
        await writer.write(enc.encode("DRAIN\n"));
        await writer.close();
      } catch {
        // Already gone: `done` says why.
      }
    },
    done,
    get exited() {
      return exited;
    },
    kill() {
      if (!exited) {
        try {
          child.kill("SIGKILL");
        } catch {
          // Exited meanwhile.
        }
      }
    },
  };
}
