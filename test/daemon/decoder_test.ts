import assert from "node:assert/strict";
import { join } from "node:path";
import { Engine } from "../../src/daemon/mod.ts";
import { Logger } from "../../src/log/mod.ts";
import { makeTestClip } from "../support/clips.ts";
import { testConfig, TRIVIAL_HANDLERS } from "../support/config.ts";

Deno.test("a clip is probed once: intake stores ffprobe's stream index and the decoder uses it without running ffprobe again", async () => {
  const dir = await Deno.makeTempDir();
  const clip = await makeTestClip(dir, "a.mp4", { durationS: 1 });
  // A stand-in ffprobe first on PATH: logs each run, then runs the real one.
  const bin = join(dir, "bin");
  await Deno.mkdir(bin);
  const calls = join(dir, "ffprobe.calls");
  const real = new TextDecoder().decode(
    (await new Deno.Command("sh", { args: ["-c", "command -v ffprobe"] })
      .output()).stdout,
  ).trim();
  await Deno.writeTextFile(
    join(bin, "ffprobe"),
    `#!/bin/sh\necho "$*" >> "${calls}"\nexec "${real}" "$@"\n`,
  );
  await Deno.chmod(join(bin, "ffprobe"), 0o755);
  const savedPath = Deno.env.get("PATH") ?? "/usr/bin:/bin";
  Deno.env.set("PATH", `${bin}:${savedPath}`);
  const engine = await Engine.open(testConfig(join(dir, "data")), {
    log: new Logger({ level: "error", sink: () => {}, journald: false }),
    sink: { add: () => true },
    handlersModule: TRIVIAL_HANDLERS,
  });
  try {
    const sub = await engine.addClip(clip);
    const [video] = await engine.waitFor([sub.videoId!]);
    assert.equal(video.status, "done");
    assert.equal(video.stream_index, 0);
    const runs = (await Deno.readTextFile(calls)).trim().split("\n");
    assert.equal(runs.length, 1, `ffprobe ran ${runs.length} times`);
  } finally {
    Deno.env.set("PATH", savedPath);
    await engine.close();
    await Deno.remove(dir, { recursive: true });
  }
});
