/**
 * `vehicles [--plate P] [--fuzzy] [--since T] [--until T] [--remote] [--json]`:
 * searches final events in the local outbox, or in the fleet Postgres with
 * `--remote` (`--fuzzy`: plates within one edit; in Postgres as the exact set
 * of LIKE patterns within that edit, see sink/pg_search.ts).
 *
 * @module
 */
import { join } from "node:path";
import { log } from "../log/mod.ts";
import {
  closePg,
  connectFleet,
  describePgError,
  Outbox,
  OUTBOX_FILE,
  PgDescribedError,
  searchVehicles,
} from "../sink/mod.ts";
import { configFromFlags, parseCommandArgs, UsageError } from "./common.ts";
import { parseCountFlag, parseTimeFlag } from "./flag_values.ts";
import { assertPgHostAllowed } from "./pg_host.ts";

/** Usage text. */
export const USAGE =
  "vehicles [--plate P] [--fuzzy] [--since T] [--until T] [--limit N] [--remote] [--json]  search final events";

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/**
 * Runs the command.
 *
 * @param args Arguments after `vehicles`.
 * @returns The exit code.
 */
export async function runVehicles(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, {
    plate: { type: "string" },
    fuzzy: { type: "boolean" },
    since: { type: "string" },
    until: { type: "string" },
    limit: { type: "string" },
    remote: { type: "boolean" },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  // Flags are checked before anything is opened.
  const limit = values.limit === undefined
    ? 100
    : parseCountFlag("limit", values.limit);
  const filter = {
    plate: values.plate,
    fuzzy: values.fuzzy ? 1 : 0,
    since: values.since === undefined
      ? undefined
      : parseTimeFlag("since", values.since),
    until: values.until === undefined
      ? undefined
      : parseTimeFlag("until", values.until),
    limit,
  };
  if (filter.fuzzy && !filter.plate) {
    throw new UsageError("--fuzzy needs --plate");
  }
  if (filter.since && filter.until && filter.since > filter.until) {
    throw new UsageError(
      `--since must not be later than --until, got '${values.since}' and '${values.until}'`,
    );
  }
  const config = await configFromFlags(values);
  let rows: Array<
    {
      ts: string;
      plate: string;
      confidence: number;
      videoId: string;
      trackId: number | null;
      extra: string;
    }
  >;
  let raw: unknown[];
  if (values.remote) {
    assertPgHostAllowed(config.pg.url);
    const sql = connectFleet(config.pg, { log });
    try {
      const found = await searchVehicles(sql, filter);
      raw = found;
      rows = found.map((v) => ({
        ts: v.ts.toISOString(),
        plate: v.finalPlate,
        confidence: v.plateConfidence,
        videoId: v.videoId,
        trackId: v.trackId,
        extra: v.deviceId ? `device=${v.deviceId}` : "",
      }));
    } catch (err) {
      // A bad filter is the caller's; anything else is the server's.
      if (err instanceof RangeError || err instanceof TypeError) throw err;
      // One line naming pg.url and host:port, as sync and migrate give.
      throw new PgDescribedError(
        describePgError(err, { url: config.pg.url ?? undefined }),
        { cause: err },
      );
    } finally {
      await closePg(sql);
    }
  } else {
    // Read-only: an operator in group dashcam may search while the daemon
    // is stopped, and a search never creates, migrates or repairs the outbox.
    const path = join(config.data_dir, OUTBOX_FILE);
    if (!(await isFile(path))) {
      throw new Error(
        `No outbox at ${path}: no events yet (check data_dir or --data-dir)`,
      );
    }
    const outbox = Outbox.open(path, { readOnly: true });
    try {
      const found = outbox.query(filter);
      raw = found;
      rows = found.map((e) => ({
        ts: e.ts,
        plate: e.finalPlate,
        confidence: e.plateConfidence,
        videoId: e.videoId,
        trackId: e.trackId,
        extra: `${e.sentAt ? "synced" : "pending"}${
          e.alertId !== null ? " ALERT" : ""
        }`,
      }));
    } finally {
      outbox.close();
    }
  }
  if (values.json) {
    for (const r of raw) console.log(JSON.stringify(r));
  } else {
    for (const r of rows) {
      console.log(
        `${r.ts}  ${r.plate.padEnd(10)}  ${
          (r.confidence * 100).toFixed(1).padStart(5)
        }%  video=${r.videoId} track=${r.trackId} ${r.extra}`,
      );
    }
    if (rows.length === 0) console.log("no matching vehicles");
  }
  return 0;
}
