/**
 * Connecting to the fleet Postgres from the configuration, and making sure
 * its database and schema exist (the daemon does this on first connect).
 *
 * @module
 */
import type { Config } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import {
  connectPg,
  describePgError,
  PgDescribedError,
  type PgSql,
} from "./pg_client.ts";
import {
  ensureDatabase,
  migratePg,
  type MigratePgResult,
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
 * Creates the database when missing (through the `postgres` maintenance
 * database; a user without the right to do so just gets the migrations) and
 * applies the schema migrations.
 *
 * @param sql A client on the fleet database.
 * @param options The `pg` section and a logger.
 * @returns What was applied.
 * @throws {Error} One line naming `pg.url`, without the password.
 */
export async function prepareFleet(
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
    return await migratePg(sql, { log });
  } catch (err) {
    throw new PgDescribedError(describePgError(err, { url: pg.url! }), {
      cause: err,
    });
  }
}
