/**
 * Help text names `dashcam` in a compiled binary, and a Postgres host
 * outside the allowed hosts gets one line naming it and how to allow it.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  commandName,
  defaultConfigFile,
  isCompiled,
  pgHostPort,
} from "../../src/shared/build_info.ts";
import { help } from "../../src/cli/mod.ts";
import { MAIN } from "../support/cli.ts";

const COMPILED = "file:///tmp/deno-compile-dashcam-x86_64/main.ts";

Deno.test("a compiled binary calls itself `dashcam`; from source it is `deno task dashcam`", () => {
  assert.equal(isCompiled(COMPILED), true);
  assert.equal(commandName(COMPILED), "dashcam");
  assert.equal(isCompiled("file:///work/repo/main.ts"), false);
  assert.equal(commandName("file:///work/repo/main.ts"), "deno task dashcam");
  assert.equal(commandName(), "deno task dashcam");
  assert.equal(defaultConfigFile(COMPILED), "/etc/dashcam/dashcam.json");
  assert.equal(
    defaultConfigFile("file:///work/repo/main.ts"),
    "config/dashcam.json",
  );
  assert.match(help("dashcam"), /^Usage: dashcam <command>/m);
  assert.doesNotMatch(help("dashcam"), /deno task/);
});

Deno.test("pgHostPort takes host and port (5432 by default) from a Postgres URL", () => {
  assert.equal(
    pgHostPort("postgres://dashcam:pw@fleet.example/dashcam_final"),
    "fleet.example:5432",
  );
  assert.equal(pgHostPort("postgresql://u@10.0.0.5:6432/x"), "10.0.0.5:6432");
  assert.equal(pgHostPort("postgress://u@h/x"), null);
  assert.equal(pgHostPort("not a url"), null);
});

async function narrow(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      "--allow-read",
      "--allow-write",
      "--allow-run=ffmpeg,ffprobe",
      "--allow-env",
      "--allow-net=127.0.0.1",
      "--allow-ffi",
      "--allow-sys",
      MAIN,
      ...args,
    ],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stderr: dec.decode(out.stderr),
    stdout: dec.decode(out.stdout),
  };
}

Deno.test("with net allowed to 127.0.0.1 only, `sync --once` and `vehicles --remote` name the host and DASHCAM_PG_HOSTS in one line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "build_info_test_" });
  try {
    const url = "postgres://dashcam:s3cret@fleet.example:5432/dashcam_final";
    for (
      const args of [
        ["sync", "--once"],
        ["vehicles", "--remote"],
        ["migrate"],
      ]
    ) {
      const out = await narrow([...args, "--data-dir", dir, "--pg-url", url]);
      assert.equal(out.code, 78, `${args}: ${out.stderr}`);
      const lines = out.stderr.split("\n").filter((l) => l.trim() !== "");
      assert.equal(lines.length, 1, out.stderr);
      assert.match(lines[0], /fleet\.example:5432/);
      assert.match(lines[0], /DASHCAM_PG_HOSTS=fleet\.example:5432/);
      assert.doesNotMatch(out.stderr + out.stdout, /s3cret/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
