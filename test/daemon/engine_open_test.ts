/**
 * A damaged `pipeline.db` (work in progress, rebuilt from the clips) is set
 * aside and rebuilt with one loud line, instead of failing every start.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Engine } from "../../src/daemon/mod.ts";
import { Logger } from "../../src/log/mod.ts";
import type { FinalEvent } from "../../src/shared/mod.ts";
import { makeTestClip } from "../support/clips.ts";
import { testConfig, TRIVIAL_HANDLERS } from "../support/config.ts";

for (
  const [what, bytes] of [
    ["zero bytes", new Uint8Array()],
    ["not a database", new TextEncoder().encode("garbage\n".repeat(512))],
  ] as const
) {
  Deno.test(`\`Engine.open()\` sets a pipeline.db of ${what} aside, says so once and processes clips`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "engine_open_test_" });
    try {
      const dataDir = join(dir, "data");
      await Deno.mkdir(dataDir);
      const dbPath = join(dataDir, "pipeline.db");
      await Deno.writeFile(dbPath, bytes);
      const clip = await makeTestClip(dir, "a.mp4", { durationS: 1 });
      const lines: string[] = [];
      const events: FinalEvent[] = [];
      const engine = await Engine.open(testConfig(dataDir), {
        log: new Logger({
          level: "warn",
          sink: (l) => lines.push(l),
          journald: false,
        }),
        sink: { add: (e) => (events.push(e), true) },
        handlersModule: TRIVIAL_HANDLERS,
      });
      try {
        assert.equal(lines.length, 1, lines.join("\n"));
        assert.ok(lines[0].includes(dbPath), lines[0]);
        const aside = [...Deno.readDirSync(dataDir)].map((e) => e.name)
          .filter((n) =>
            n.startsWith("pipeline.db.damaged-") && !n.endsWith("-wal") &&
            !n.endsWith("-shm")
          );
        assert.equal(aside.length, 1);
        assert.ok(lines[0].includes(aside[0]), lines[0]);
        assert.deepEqual(await Deno.readFile(join(dataDir, aside[0])), bytes);
        const sub = await engine.addClip(clip);
        const [video] = await engine.waitFor([sub.videoId!]);
        assert.equal(video.status, "done");
        assert.ok(events.length > 0);
      } finally {
        await engine.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
