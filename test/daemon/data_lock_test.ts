import assert from "node:assert/strict";
import { join } from "node:path";
import { DataDirBusyError, lockDataDir } from "../../src/daemon/data_lock.ts";

Deno.test("`lockDataDir()` refuses a held data dir with the holder's PID, and frees it on release", async () => {
  const dir = await Deno.makeTempDir({ prefix: "data_lock_test_" });
  try {
    const first = await lockDataDir(dir);
    assert.equal(
      (await Deno.readTextFile(join(dir, "dashcam.lock"))).trim(),
      String(Deno.pid),
    );
    await assert.rejects(
      () => lockDataDir(dir, { waitMs: 0 }),
      (err: unknown) =>
        err instanceof DataDirBusyError && err.pid === Deno.pid &&
        err.message.startsWith(`data dir ${dir} is in use by PID ${Deno.pid}`),
    );
    first.release();
    const again = await lockDataDir(dir, { waitMs: 0 });
    again.release();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
