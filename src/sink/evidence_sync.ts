/**
 * Sends each synced event's pictures to the fleet's `vehicle_evidence`
 * (issue 13): the plate crop (PNG) and, when one was made, the vehicle crop
 * (JPEG). A picture goes only after its event is in `vehicles` (the outbox
 * marks the event sent after Postgres's COMMIT, and a foreign key holds
 * Postgres to it); `ON CONFLICT (event_key, kind) DO NOTHING` plus marking
 * the outbox only after the insert makes every picture arrive exactly once
 * across crashes and server restarts. With `keepLocal` the pictures stay on
 * the box (privacy) and are only marked as not sent. Pictures larger than
 * `maxBytes` are not sent (one debug line), so one bad file cannot block
 * the queue or bloat the fleet database.
 *
 * @module
 */
import { join } from "node:path";
import { log as defaultLog, type Logger } from "../log/mod.ts";
import type { Outbox, OutboxEvent } from "./outbox.ts";
import type { PgSql } from "./pg_client.ts";
import { vehicleCropPath } from "../shared/mod.ts";

/** Options for {@linkcode syncEvidence}. */
export interface SyncEvidenceOptions {
  /** The data dir the evidence paths are relative to. */
  dataDir: string;
  /** This vehicle's id, stored with every row. */
  deviceId: string;
  /** Keep pictures on the box only: nothing is sent. @default {false} */
  keepLocal?: boolean;
  /** Largest picture sent, bytes. @default {262144} */
  maxBytes?: number;
  /** Events per round trip. @default {50} */
  batchSize?: number;
  /** Debug lines. @default {the module `log`} */
  log?: Logger;
  /** Stops between batches. */
  signal?: AbortSignal;
  /** Called after Postgres took a batch, before the outbox records it (tests: a crash there). */
  afterInsert?: (eventKeys: string[]) => void | Promise<void>;
}

/** What one call did. */
export interface SyncEvidenceResult {
  /** Pictures inserted now. */
  inserted: number;
  /** Pictures Postgres already had (a re-send after a crash). */
  duplicates: number;
  /** Events whose pictures were not sent (kept local, missing, too large). */
  kept: number;
}

interface EvidenceRow {
  event_key: string;
  kind: "plate" | "vehicle";
  content_type: string;
  data: Uint8Array;
  device_id: string;
}

async function readPicture(
  path: string,
  maxBytes: number,
): Promise<{ data: Uint8Array } | { skip: string }> {
  try {
    const st = await Deno.stat(path);
    if (st.size > maxBytes) {
      return { skip: `${path} is ${st.size} bytes (over ${maxBytes})` };
    }
    return { data: await Deno.readFile(path) };
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { skip: `${path} is gone` };
    throw err;
  }
}

async function rowsOf(
  event: OutboxEvent,
  options: { dataDir: string; deviceId: string; maxBytes: number; log: Logger },
): Promise<EvidenceRow[]> {
  const rows: EvidenceRow[] = [];
  const plate = event.evidence!;
  if (plate.includes("..")) return rows;
  const pictures = [
    { kind: "plate" as const, path: plate, type: "image/png" },
    {
      kind: "vehicle" as const,
      path: vehicleCropPath(plate),
      type: "image/jpeg",
    },
  ];
  for (const p of pictures) {
    const got = await readPicture(
      join(options.dataDir, p.path),
      options.maxBytes,
    );
    if ("skip" in got) {
      if (p.kind === "plate" || !got.skip.endsWith("is gone")) {
        options.log.debug("evidence picture not sent", {
          event_key: event.eventKey,
          reason: got.skip,
        });
      }
      continue;
    }
    rows.push({
      event_key: event.eventKey,
      kind: p.kind,
      content_type: p.type,
      data: got.data,
      device_id: options.deviceId,
    });
  }
  return rows;
}

/**
 * Sends the pictures of every synced event not yet offered.
 *
 * @example
 * ```ts ignore
 * await syncEvidence(outbox, sql, { dataDir, deviceId: "van-7" });
 * ```
 * @param outbox The outbox.
 * @param sql Client of the fleet database (migrated to version 6 or later).
 * @param options Data dir, device id, privacy switch, size bound.
 * @returns Counts.
 * @throws {Error} The driver's error when Postgres fails (nothing is marked; the next pass resends).
 */
export async function syncEvidence(
  outbox: Outbox,
  sql: PgSql,
  options: SyncEvidenceOptions,
): Promise<SyncEvidenceResult> {
  const {
    dataDir,
    deviceId,
    keepLocal = false,
    maxBytes = 262_144,
    batchSize = 50,
    log = defaultLog,
    signal,
    afterInsert,
  } = options;
  const result: SyncEvidenceResult = { inserted: 0, duplicates: 0, kept: 0 };
  while (!signal?.aborted) {
    const events = outbox.unsyncedEvidence(batchSize);
    if (events.length === 0) break;
    if (keepLocal) {
      outbox.markEvidenceSynced(events.map((e) => e.id), 0);
      result.kept += events.length;
      continue;
    }
    const rows: EvidenceRow[] = [];
    const sentIds: number[] = [];
    const keptIds: number[] = [];
    for (const event of events) {
      const got = await rowsOf(event, { dataDir, deviceId, maxBytes, log });
      if (got.length === 0) keptIds.push(event.id);
      else {
        rows.push(...got);
        sentIds.push(event.id);
      }
    }
    if (rows.length > 0) {
      const inserted = await sql`
        INSERT INTO vehicle_evidence ${
        sql(rows, ["event_key", "kind", "content_type", "data", "device_id"])
      }
        ON CONFLICT (event_key, kind) DO NOTHING`;
      result.inserted += inserted.count;
      result.duplicates += rows.length - inserted.count;
      await afterInsert?.([...new Set(rows.map((r) => r.event_key))]);
    }
    outbox.markEvidenceSynced(sentIds, 1);
    outbox.markEvidenceSynced(keptIds, 0);
    result.kept += keptIds.length;
  }
  return result;
}
