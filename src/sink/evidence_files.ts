/**
 * `vehicles --remote --evidence DIR`: writes the pictures of the matching
 * events from the fleet's `vehicle_evidence` as files
 * `<event_key>_<kind>.<png|jpg>` (`:` of the key as `_`).
 *
 * @module
 */
import { join } from "node:path";
import type { PgSql } from "./pg_client.ts";

/**
 * The file name of one picture. Pure.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(evidenceFileName("ab12:3", { kind: "plate", contentType: "image/png" }), "ab12_3_plate.png");
 * ```
 * @param eventKey The event's key.
 * @param picture Its kind and content type.
 * @returns A name with no path separator.
 */
export function evidenceFileName(
  eventKey: string,
  picture: { kind: string; contentType: string },
): string {
  const ext = picture.contentType === "image/png" ? "png" : "jpg";
  const safe = `${eventKey}_${picture.kind}`.replace(/[^A-Za-z0-9._-]/g, "_");
  return `${safe}.${ext}`;
}

/**
 * Writes the pictures of some events into `dir` (created if missing).
 *
 * @param sql Client of the fleet database.
 * @param options The folder and the events' keys.
 * @returns The paths written.
 */
export async function writeEvidenceFiles(
  sql: PgSql,
  options: { dir: string; eventKeys: readonly string[] },
): Promise<string[]> {
  if (options.eventKeys.length === 0) return [];
  await Deno.mkdir(options.dir, { recursive: true });
  const rows = await sql<
    {
      event_key: string;
      kind: string;
      content_type: string;
      data: Uint8Array;
    }[]
  >`
    SELECT event_key, kind, content_type, data FROM vehicle_evidence
    WHERE event_key = ANY(${options.eventKeys as string[]}::text[])
    ORDER BY event_key, kind`;
  const written: string[] = [];
  for (const r of rows) {
    const path = join(
      options.dir,
      evidenceFileName(r.event_key, {
        kind: r.kind,
        contentType: r.content_type,
      }),
    );
    await Deno.writeFile(path, r.data);
    written.push(path);
  }
  return written;
}
