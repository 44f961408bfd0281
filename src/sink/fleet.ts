/**
 * Connecting to the fleet Postgres from the configuration: `migrate` creates
 * and upgrades its database and schema; a sync only checks them.
 *
 * @module
 */
import type { Config } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import {
  connectPg,
  describePgError,
  PgDescribedError,
  pgHostPort,
  type PgSql,
} from "./pg_client.ts";
import {
  ensureDatabase,
  ensurePostgisLocation,
  latestPgVersion,
  migratePg,
  type MigratePgResult,
  pgSchemaVersion,
} from "./pg_schema.ts";

/** Settings of the fleet connection. */
export type FleetSettings = Config["pg"];

/**
 * Opens a client for the configured URL.
 *
 * @param pg The `pg` section.
 * @param options Logger.
 * @returns The client (connects lazily).
 * @throws {Error} When `pg.url` is not set.
 */
export function connectFleet(
  pg: FleetSettings,
  options: { log: Logger },
): PgSql {
  if (!pg.url) {
    throw new Error(
      "Cannot reach the fleet database: 'pg.url' is not set (flag --pg-url or env DASHCAM_PG_URL)",
    );
  }
  return connectPg({
    url: pg.url,
    passwordFile: pg.password_file ?? undefined,
    tls: pg.tls,
    log: options.log,
  });
}

/**
 * `migrate`: creates the database when missing (through the `postgres`
 * maintenance database; a user without the right to do so just gets the
 * migrations) and applies the schema migrations. Only the owner role runs
 * this; devices call {@linkcode checkFleet}.
 *
 * @param sql A client on the fleet database.
 * @param options The `pg` section and a logger.
 * @returns What was applied.
 * @throws {Error} One line naming `pg.url`, without the password.
 */
export async function migrateFleet(
  sql: PgSql,
  options: { pg: FleetSettings; log: Logger },
): Promise<MigratePgResult> {
  const { pg, log } = options;
  const url = new URL(pg.url!);
  const name = decodeURIComponent(url.pathname.replace(/^\//, "")) ||
    "dashcam_final";
  try {
    url.pathname = "/postgres";
    if (
      await ensureDatabase(url.href, name, {
        passwordFile: pg.password_file ?? undefined,
        tls: pg.tls,
        log,
      })
    ) {
      log.info("created fleet database", { database: name });
    }
  } catch (err) {
    log.debug("could not check or create the fleet database", {
      error: describePgError(err, { url: pg.url! }),
    });
  }
  try {
    const result = await migratePg(sql, { log });
    // PostGIS installed after migration 5 ran: add `location` now.
    await ensurePostgisLocation(sql);
    return result;
  } catch (err) {
    throw new PgDescribedError(describePgError(err, { url: pg.url! }), {
      cause: err,
    });
  }
}

/**
 * Before a sync: checks that the fleet database exists and its schema is at
 * least this build's version. Never creates a database or changes the
 * schema (a device role may not, and a typo in the database name must be an
 * error, not a new database); events stay in the outbox until it passes.
 *
 * @param sql A client on the fleet database.
 * @param options The `pg` section.
 * @returns The schema version found.
 * @throws {Error} One line naming `pg.url` and what to do: the database is
 * missing (3D000), the schema is older than this build, or the role may not
 * read `schema_migrations`.
 */
export async function checkFleet(
  sql: PgSql,
  options: { pg: FleetSettings },
): Promise<number> {
  const { pg } = options;
  let current: number;
  try {
    current = await pgSchemaVersion(sql);
  } catch (err) {
    throw new PgDescribedError(describePgError(err, { url: pg.url! }), {
      cause: err,
    });
  }
  const needed = latestPgVersion();
  if (current < needed) {
    throw new PgDescribedError(
      `Cannot sync to ${
        pgHostPort(pg.url!)
      } (pg.url): the fleet schema is at version ${current}, this build needs ${needed}; run \`dashcam migrate\` as the database owner`,
    );
  }
  return current;
}
