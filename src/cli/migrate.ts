/**
 * `migrate`: creates the fleet database if needed and applies the Postgres
 * schema migrations; `--grant-device ROLE` then gives a device role what a
 * sync needs. Run by the database owner: devices never change the schema.
 *
 * @module
 */
import { log } from "../log/mod.ts";
import {
  closePg,
  connectFleet,
  grantDevice,
  migrateFleet,
} from "../sink/mod.ts";
import { configFromFlags, parseCommandArgs } from "./common.ts";
import { assertPgHostAllowed } from "./pg_host.ts";

/** Usage text. */
export const USAGE =
  "migrate [--grant-device ROLE]  create/upgrade the fleet Postgres schema (as its owner); grant a device role INSERT/SELECT";

/**
 * Runs the command.
 *
 * @param args Arguments after `migrate`.
 * @returns The exit code.
 */
export async function runMigrate(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, {
    "grant-device": { type: "string", multiple: true },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const config = await configFromFlags(values);
  assertPgHostAllowed(config.pg.url);
  const sql = connectFleet(config.pg, { log });
  try {
    const result = await migrateFleet(sql, { pg: config.pg, log });
    const roles = values["grant-device"] ?? [];
    for (const role of roles) {
      try {
        await grantDevice(sql, role);
      } catch (err) {
        throw new Error(
          `Cannot grant device role ${JSON.stringify(role)} (--grant-device): ${
            (err as Error).message
          }; create it first (CREATE ROLE … LOGIN)`,
        );
      }
      if (!values.json) console.log(`granted device privileges to ${role}`);
    }
    if (values.json) console.log(JSON.stringify(result));
    else {
      console.log(
        result.applied.length
          ? `applied migrations ${
            result.applied.join(", ")
          }; schema at version ${result.current}`
          : `schema up to date at version ${result.current}`,
      );
    }
    return 0;
  } finally {
    await closePg(sql);
  }
}
