/**
 * Stops a Postgres command early, with one line, when this program may not
 * connect to the `pg.url` host (a compiled binary outside its allowed
 * hosts), instead of an `EPERM getaddrinfo` from deep in the client.
 *
 * @module
 */
import { pgHostProblem } from "../shared/build_info.ts";
import { ConfigError } from "./common.ts";

/**
 * Throws when the `pg.url` host is not allowed (see `pgHostProblem`).
 *
 * @param url The `pg.url` setting; null (sync off) passes.
 * @throws {ConfigError} One line naming the host and how to allow it (exit 78).
 */
export function assertPgHostAllowed(url: string | null): void {
  if (url === null) return;
  const problem = pgHostProblem(url);
  if (problem !== null) throw new ConfigError(problem);
}
