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
  writeEvidenceFiles,
} from "../sink/mod.ts";
import { configFromFlags, parseCommandArgs, UsageError } from "./common.ts";
import { parseCountFlag, parseTimeFlag } from "./flag_values.ts";
import { assertPgHostAllowed } from "./pg_host.ts";
import { localEventTime } from "./format.ts";
import { parseNearFlags } from "./near_flag.ts";
import { placeText } from "./place_text.ts";

/** Usage text. */
export const USAGE =
  "vehicles [--plate P] [--fuzzy] [--since T] [--until T] [--near LAT,LON --radius METRES] [--limit N] [--remote [--evidence DIR]] [--json]  search final events";

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
    near: { type: "string" },
    radius: { type: "string" },
    evidence: { type: "string" },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  // Flags are checked before anything is opened (the config file only
  // gives the zone that dates are whole days in).
  const limit = values.limit === undefined
    ? 100
    : parseCountFlag("limit", values.limit);
  const config = await configFromFlags(values);
  const timeZone = config.cameras.default.time_zone;
  const filter = {
    plate: values.plate,
    fuzzy: values.fuzzy ? 1 : 0,
    since: values.since === undefined
      ? undefined
      : parseTimeFlag("since", values.since, { timeZone }),
    until: values.until === undefined
      ? undefined
      : parseTimeFlag("until", values.until, { timeZone, endOfDay: true }),
    limit,
    near: parseNearFlags(values.near, values.radius),
  };
  if (values.evidence !== undefined && !values.remote) {
    throw new UsageError("--evidence needs --remote");
  }
  if (filter.fuzzy && !filter.plate) {
    throw new UsageError("--fuzzy needs --plate");
  }
  if (filter.since && filter.until && filter.since > filter.until) {
    throw new UsageError(
      `--since must not be later than --until, got '${values.since}' and '${values.until}'`,
    );
  }
  let rows: Array<
    {
      ts: string;
      plate: string;
      confidence: number;
      videoId: string;
      trackId: number | null;
      extra: string;
      camera?: string;
      clip?: string;
      clipTimeS?: number;
      carBbox?: number[];
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
        carBbox: v.carBbox,
        extra: [
          v.deviceId ? `device=${v.deviceId}` : "",
          placeText(v),
        ].filter((x) => x !== "").join(" "),
      }));
      if (values.evidence !== undefined) {
        const written = await writeEvidenceFiles(sql, {
          dir: values.evidence,
          eventKeys: found.flatMap((v) => v.eventKey ? [v.eventKey] : []),
        });
        console.error(
          `wrote ${written.length} evidence picture(s) to ${values.evidence}`,
        );
      }
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
        camera: e.camera,
        clip: e.clip,
        clipTimeS: e.clipTimeS,
        carBbox: e.carBbox,
        extra: `${e.sentAt ? "synced" : "pending"}${
          e.alertId !== null ? " ALERT" : ""
        }${placeText(e) ? ` ${placeText(e)}` : ""}`,
      }));
    } finally {
      outbox.close();
    }
  }
  const cameras = config.cameras;
  if (values.json) {
    raw.forEach((r, i) => {
      const local = localEventTime({ ts: rows[i].ts, camera: rows[i].camera }, {
        cameras,
      });
      console.log(JSON.stringify({ ...(r as object), localTime: local }));
    });
    if (rows.length === 0) console.log(JSON.stringify({ events: 0 }));
  } else {
    for (const r of rows) {
      const where = r.clip !== undefined
        ? `${r.clip} at ${(r.clipTimeS ?? 0).toFixed(1)} s  `
        : "";
      const car = r.carBbox
        ? `car=${JSON.stringify(r.carBbox.map((v) => Math.round(v)))} `
        : "";
      console.log(
        `${localEventTime({ ts: r.ts, camera: r.camera }, { cameras })}  ${
          r.plate.padEnd(10)
        }  ${
          (r.confidence * 100).toFixed(1).padStart(5)
        }%  ${where}${car}video=${r.videoId} track=${r.trackId} ${r.extra}`,
      );
    }
    if (rows.length === 0) console.log("no matching vehicles");
  }
  return 0;
}
