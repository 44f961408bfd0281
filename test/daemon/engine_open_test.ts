/**
 * `Engine.open()`: a damaged `pipeline.db` (work in progress, rebuilt from
 * the clips) is set aside and rebuilt with one loud line, instead of failing
 * every start; clips are taken in and decoded while the workers load their
 * models (`whileWorkersLoad`), and a failure of either closes everything.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type ClipSubmission,
  Engine,
  lockDataDir,
} from "../../src/daemon/mod.ts";
import { Logger } from "../../src/log/mod.ts";
import type { FinalEvent } from "../../src/shared/mod.ts";
import { makeTestClip } from "../support/clips.ts";
import { testConfig, TRIVIAL_HANDLERS } from "../support/config.ts";

/** Waits until the clip is done and checks it reported events. */
async function endsDone(
  engine: Engine,
  videoId: string,
  events: FinalEvent[],
): Promise<void> {
  const [video] = await engine.waitFor([videoId]);
  assert.equal(video.status, "done");
  assert.ok(events.length > 0);
}

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
        await endsDone(engine, sub.videoId!, events);
      } finally {
        await engine.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

const quiet = () =>
  new Logger({ level: "error", sink: () => {}, journald: false });

/** Polls `cond` up to 60 s; false when it never held. */
async function eventually(cond: () => boolean): Promise<boolean> {
  const deadline = Date.now() + 60_000;
  while (!cond() && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
  }
  return cond();
}

Deno.test("`Engine.open()` runs `whileWorkersLoad` and decodes its clips before any worker has loaded", async () => {
  const dir = await Deno.makeTempDir({ prefix: "engine_open_test_" });
  try {
    const dataDir = join(dir, "data");
    const clip = await makeTestClip(dir, "a.mp4", { durationS: 1 });
    // No worker can finish loading before this file exists.
    const gate = join(dir, "models-loaded");
    let sub: ClipSubmission | undefined;
    let decodedBeforeLoad = false;
    const engine = await Engine.open(testConfig(dataDir), {
      log: quiet(),
      sink: { add: () => true },
      handlersModule: TRIVIAL_HANDLERS,
      handlerOptions: { initGate: gate },
      whileWorkersLoad: async (engine) => {
        sub = await engine.addClip(clip);
        decodedBeforeLoad = await eventually(() => engine.framesOnDisk > 0);
        await Deno.writeTextFile(gate, "");
      },
    });
    try {
      assert.ok(decodedBeforeLoad, "no frame decoded while the workers load");
      assert.equal(sub?.state, "new");
      const [video] = await engine.waitFor([sub!.videoId!]);
      assert.equal(video.status, "done");
    } finally {
      await engine.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (
  const [what, handlerOptions, hookFails, message] of [
    ["`whileWorkersLoad` fails", {}, true, /planted intake failure/],
    [
      "the workers fail to load",
      { initFail: true },
      false,
      /planted start-up failure/,
    ],
  ] as const
) {
  Deno.test(`\`Engine.open()\` closes everything and throws when ${what}; the clip taken in is done on the next start`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "engine_open_test_" });
    try {
      const dataDir = join(dir, "data");
      const clip = await makeTestClip(dir, "a.mp4", { durationS: 1 });
      let sub: ClipSubmission | undefined;
      await assert.rejects(
        Engine.open(testConfig(dataDir), {
          log: quiet(),
          sink: { add: () => true },
          handlersModule: TRIVIAL_HANDLERS,
          handlerOptions,
          whileWorkersLoad: async (engine) => {
            sub = await engine.addClip(clip);
            if (hookFails) throw new Error("planted intake failure");
          },
        }),
        message,
      );
      assert.equal(sub?.state, "new");
      // The data dir is free again: nothing of the failed start holds it.
      (await lockDataDir(dataDir)).release();
      const events: FinalEvent[] = [];
      const engine = await Engine.open(testConfig(dataDir), {
        log: quiet(),
        sink: { add: (e) => (events.push(e), true) },
        handlersModule: TRIVIAL_HANDLERS,
      });
      try {
        await endsDone(engine, sub!.videoId!, events);
      } finally {
        await engine.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
