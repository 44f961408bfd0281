/**
 * The throwaway cluster finds the server binaries of whichever supported
 * major version is installed, not only PostgreSQL 15.
 *
 * @module
 */
import assert from "node:assert/strict";
import { findPgBinDir } from "./pg_cluster.ts";

Deno.test("findPgBinDir takes the newest installed major version with initdb", async () => {
  const root = await Deno.makeTempDir({ prefix: "pg_lib_" });
  try {
    const none = findPgBinDir({ root, env: {} });
    assert.equal(none, null);
    for (const major of [14, 16]) {
      await Deno.mkdir(`${root}/${major}/bin`, { recursive: true });
      await Deno.writeTextFile(`${root}/${major}/bin/initdb`, "");
    }
    // A version folder without initdb (client only) is not taken.
    await Deno.mkdir(`${root}/17/bin`, { recursive: true });
    assert.equal(findPgBinDir({ root, env: {} }), `${root}/16/bin`);
    await Deno.remove(`${root}/16`, { recursive: true });
    assert.equal(findPgBinDir({ root, env: {} }), `${root}/14/bin`);
    assert.equal(
      findPgBinDir({ root, env: { PG_BIN: "/opt/pg/bin" } }),
      "/opt/pg/bin",
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
