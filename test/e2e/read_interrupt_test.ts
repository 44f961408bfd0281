/**
 * `read` stops on Ctrl-C (SIGINT) as `process` does: it exits 130 soon after
 * the signal instead of reading every file given, for photos (read
 * in-process) and for clips (run through the pipeline).
 */
import assert from "node:assert/strict";
import { makeTestClip } from "../support/clips.ts";
import { dashcamCommand } from "../support/cli.ts";
import { writeTrivialConfig } from "../support/config.ts";
import {
  loadGroundTruth,
  SHARED_MEDIA,
  TEST_MODELS,
} from "../support/shared.ts";

/** Bound of the wait for the exit: generous, the machine may be busy. */
const EXIT_LIMIT_MS = 20_000;

/** Waits for the exit up to {@linkcode EXIT_LIMIT_MS}; null when it kept running (then killed). */
async function exitWithin(
  child: Deno.ChildProcess,
): Promise<Deno.CommandStatus | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const status = await Promise.race([
    child.status,
    new Promise<null>((r) => timer = setTimeout(() => r(null), EXIT_LIMIT_MS)),
  ]);
  clearTimeout(timer);
  if (status === null) {
    child.kill("SIGKILL");
    await child.status;
  }
  return status;
}

Deno.test("read stops on Ctrl-C (SIGINT) after its first line and exits 130 without reading the rest", async () => {
  const truth = (await loadGroundTruth()).filter((t) =>
    t.file.startsWith("stills/ro_dashcam/")
  );
  // Many photos: reading them all takes far longer than the bound below.
  const files = Array.from(
    { length: 20 },
    () => truth.map((t) => `${SHARED_MEDIA}/${t.file}`),
  ).flat();
  const dataDir = await Deno.makeTempDir();
  try {
    const child = dashcamCommand([
      "read",
      "--json",
      "--models-dir",
      TEST_MODELS,
      "--data-dir",
      dataDir,
      "--log-level",
      "warn",
      ...files,
    ]).spawn();
    const stderr = new Response(child.stderr).text();
    const reader = child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    let out = "";
    while (!out.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
    if (!out.includes("\n")) assert.fail(`no first line: ${await stderr}`);
    child.kill("SIGINT");
    const rest = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        out += value;
      }
    })();
    const status = await exitWithin(child);
    await rest;
    if (status === null) assert.fail("read kept going for 20 s after SIGINT");
    const log = await stderr;
    assert.equal(status.code, 130, log);
    assert.match(log, /interrupted/);
    const lines = out.trim().split("\n");
    assert.ok(
      lines.length < files.length,
      `read all ${files.length} photos despite SIGINT`,
    );
    for (const line of lines) assert.ok(JSON.parse(line).file); // whole lines only
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("read of clips stops on Ctrl-C (SIGINT) while the pipeline runs and exits 130", async () => {
  const root = await Deno.makeTempDir();
  try {
    const clip = await makeTestClip(root, "long.mp4", { durationS: 8 });
    const config = await writeTrivialConfig(root, {
      log_level: "info",
      graph: { poll_ms: 10, retry_backoff_ms: 10 },
    });
    // Slow stages: the clip would take far longer than the bound below.
    const child = dashcamCommand(["read", "--json", "--config", config, clip], {
      env: { TRIVIAL_DELAY_MS: "500" },
    }).spawn();
    const stdout = new Response(child.stdout).text();
    const reader = child.stderr.pipeThrough(new TextDecoderStream())
      .getReader();
    let log = "";
    while (!log.includes("decoding clip")) {
      const { value, done } = await reader.read();
      if (done) break;
      log += value;
    }
    if (!log.includes("decoding clip")) assert.fail(`never started: ${log}`);
    child.kill("SIGINT");
    const rest = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        log += value;
      }
    })();
    const status = await exitWithin(child);
    await rest;
    if (status === null) assert.fail("read kept going for 20 s after SIGINT");
    assert.equal(status.code, 130, log);
    assert.match(log, /interrupted; unfinished clips resume on the next start/);
    assert.equal(await stdout, "", "no result printed for an unfinished clip");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
