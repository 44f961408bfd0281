import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { Engine } from "../../src/daemon/mod.ts";
import { registerVideo } from "../../src/graph/mod.ts";
import { Logger } from "../../src/log/mod.ts";
import { dataLayout } from "../../src/shared/mod.ts";
import { makeTestClip } from "../support/clips.ts";
import { testConfig, TRIVIAL_HANDLERS } from "../support/config.ts";

/**
 * Puts a stand-in ffprobe first on PATH that logs each run to a file, then
 * runs the real one.
 *
 * @param dir A temp dir for the stand-in and its log.
 * @returns The number of runs so far, and a function putting PATH back.
 */
async function countFfprobe(dir: string): Promise<{
  calls: () => Promise<number>;
  restore: () => void;
}> {
  const bin = join(dir, "bin");
  await Deno.mkdir(bin);
  const log = join(dir, "ffprobe.calls");
  const real = new TextDecoder().decode(
    (await new Deno.Command("sh", { args: ["-c", "command -v ffprobe"] })
      .output()).stdout,
  ).trim();
  await Deno.writeTextFile(
    join(bin, "ffprobe"),
    `#!/bin/sh\necho "$*" >> "${log}"\nexec "${real}" "$@"\n`,
  );
  await Deno.chmod(join(bin, "ffprobe"), 0o755);
  const savedPath = Deno.env.get("PATH") ?? "/usr/bin:/bin";
  Deno.env.set("PATH", `${bin}:${savedPath}`);
  return {
    calls: async () =>
      (await Deno.readTextFile(log).catch(() => "")).split("\n")
        .filter((l) => l !== "").length,
    restore: () => Deno.env.set("PATH", savedPath),
  };
}

const quiet = () =>
  new Logger({ level: "error", sink: () => {}, journald: false });

/** An engine on `dataDir` with the trivial handlers, logging nothing. */
function openEngine(dataDir: string): Promise<Engine> {
  return Engine.open(testConfig(dataDir), {
    log: quiet(),
    sink: { add: () => true },
    handlersModule: TRIVIAL_HANDLERS,
  });
}

Deno.test("a clip is probed once: intake stores ffprobe's stream index and the decoder uses it without running ffprobe again", async () => {
  const dir = await Deno.makeTempDir();
  const clip = await makeTestClip(dir, "a.mp4", { durationS: 1 });
  const ffprobe = await countFfprobe(dir);
  try {
    const engine = await openEngine(join(dir, "data"));
    try {
      const sub = await engine.addClip(clip);
      const [video] = await engine.waitFor([sub.videoId!]);
      assert.equal(video.status, "done");
      assert.equal(video.stream_index, 0);
      assert.equal(await ffprobe.calls(), 1);
    } finally {
      await engine.close();
    }
  } finally {
    ffprobe.restore();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a clip registered before migration 7 (no stream index) is probed by the decoder and decoded", async () => {
  const dir = await Deno.makeTempDir();
  const clip = await makeTestClip(dir, "a.mp4", { durationS: 1 });
  const open = () => openEngine(join(dir, "data"));
  await (await open()).close(); // creates pipeline.db
  const db = new DatabaseSync(dataLayout(join(dir, "data")).pipelineDb);
  registerVideo(db, { video_id: "legacy", path: clip, sampling_fps: 5 }, {
    now: Date.now(),
  });
  db.close();
  const ffprobe = await countFfprobe(dir);
  try {
    const engine = await open(); // takes up the queued clip
    try {
      const [video] = await engine.waitFor(["legacy"]);
      assert.equal(video.stream_index, null);
      assert.equal(video.frames_total, 5);
      assert.equal(await ffprobe.calls(), 1);
    } finally {
      await engine.close();
    }
  } finally {
    ffprobe.restore();
    await Deno.remove(dir, { recursive: true });
  }
});
