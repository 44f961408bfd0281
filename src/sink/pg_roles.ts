/**
 * The fleet database's two roles. The **owner** runs `migrate` (creates the
 * database and changes the schema); each **device** role only syncs: it
 * inserts and reads `vehicles`, sets `alert_id` on rows it already sent (a
 * plate of interest matched after the send), reads `alerts` (plates of
 * interest) and `schema_migrations` (the version check before a sync),
 * inserts and reads `vehicle_evidence`, `video_metadata` and `tracks` (and
 * updates a clip's status), and cannot change the schema. `GRANT` needs no `CREATEROLE`: the owner grants
 * to a role an administrator created.
 *
 * @module
 */
import type { PgSql } from "./pg_client.ts";
import { quoteIdent } from "./pg_schema.ts";

/**
 * The GRANT statements that give `role` what a syncing device needs and
 * nothing more (Postgres 15 gives PUBLIC no CREATE on schema `public`, so a
 * role with only these grants cannot create or alter tables).
 *
 * @example The grants of a device role
 * ```ts
 * import assert from "node:assert/strict";
 * const sql = deviceGrantsSql("van_7", { database: "dashcam_final" });
 * assert.ok(sql.includes('GRANT SELECT, INSERT ON vehicles TO "van_7"'));
 * ```
 * @param role The device role (any name; it is quoted).
 * @param options The fleet database's name.
 * @returns Statements separated by `;` and newlines.
 * @throws {RangeError} When `role` is empty or longer than 63 bytes.
 */
export function deviceGrantsSql(
  role: string,
  options: { database: string },
): string {
  if (role.length === 0 || new TextEncoder().encode(role).length > 63) {
    throw new RangeError(
      `Cannot grant to role ${JSON.stringify(role)}: a role name is 1-63 bytes`,
    );
  }
  const r = quoteIdent(role);
  return [
    `GRANT CONNECT ON DATABASE ${quoteIdent(options.database)} TO ${r}`,
    `GRANT USAGE ON SCHEMA public TO ${r}`,
    `GRANT SELECT, INSERT ON vehicles TO ${r}`,
    `GRANT UPDATE (alert_id) ON vehicles TO ${r}`,
    `GRANT USAGE ON SEQUENCE vehicles_id_seq TO ${r}`,
    `GRANT SELECT ON alerts TO ${r}`,
    `GRANT SELECT ON schema_migrations TO ${r}`,
    // Issue 13: pictures, clips and tracks (insert once, read back).
    `GRANT SELECT, INSERT ON vehicle_evidence TO ${r}`,
    `GRANT USAGE ON SEQUENCE vehicle_evidence_id_seq TO ${r}`,
    `GRANT SELECT, INSERT ON video_metadata, tracks TO ${r}`,
    `GRANT UPDATE (status, error) ON video_metadata TO ${r}`,
    `GRANT USAGE ON SEQUENCE video_metadata_id_seq, tracks_id_seq TO ${r}`,
  ].join(";\n");
}

/**
 * Grants a device role its privileges on the migrated fleet database.
 *
 * @param sql A client on the fleet database, as its owner.
 * @param role The device role; it must exist (`CREATE ROLE … LOGIN`).
 * @throws {Error} The server's error (e.g. 42704 when the role is missing).
 */
export async function grantDevice(sql: PgSql, role: string): Promise<void> {
  const [{ db }] = await sql<{ db: string }[]>`SELECT current_database() AS db`;
  await sql.unsafe(deviceGrantsSql(role, { database: db }));
}
