/**
 * A freshly migrated `pipeline.db` in a temp dir, for the graph's tests.
 *
 * @module
 */
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { openGraphDb } from "../../src/graph/db.ts";

/**
 * Runs `fn` on a freshly migrated pipeline.db in a temp dir, then closes it
 * and removes the dir.
 *
 * @param fn The test body.
 */
export function withGraphDb(fn: (db: DatabaseSync) => void): void {
  const dir = Deno.makeTempDirSync({ prefix: "graph_db_test_" });
  const db = openGraphDb(join(dir, "pipeline.db"));
  try {
    fn(db);
  } finally {
    db.close();
    Deno.removeSync(dir, { recursive: true });
  }
}
