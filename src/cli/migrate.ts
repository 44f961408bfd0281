/**
 * `migrate`: creates the fleet database if needed and applies the Postgres
 * schema migrations (the daemon also does this on first connect).
 *
 * @module
 */
import { log } from "../log/mod.ts";
import { closePg, connectFleet, prepareFleet } from "../sink/mod.ts";
import { configFromFlags, parseCommandArgs } from "./common.ts";
import { assertPgHostAllowed } from "./pg_host.ts";

/** Usage text. */
export const USAGE =
  "migrate                  create/upgrade the fleet Postgres schema";

/**
 * Runs the command.
 *
 * @param args Arguments after `migrate`.
 * @returns The exit code.
 */
export async function runMigrate(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, {});
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const config = await configFromFlags(values);
  assertPgHostAllowed(config.pg.url);
  const sql = connectFleet(config.pg, { log });
  try {
    const result = await prepareFleet(sql, { pg: config.pg, log });
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
