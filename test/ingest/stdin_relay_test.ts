import assert from "node:assert/strict";
import {
  RELAY_CANNOT_RUN,
  RELAY_NOT_FOUND,
  relayedCommand,
} from "../../src/ingest/stdin_relay.ts";
import { deadline } from "../../src/shared/async.ts";
import { alive, childPids, untilGone } from "../support/procs.ts";

/** The relay's exit, failing (rather than hanging) if it does not come within 30 s. */
function exit(child: Deno.ChildProcess): Promise<Deno.CommandStatus> {
  return deadline(child.status, 30_000, { what: "the relay's exit" });
}

/** Starts `bin args…` behind the relay, all three streams piped. */
function relay(bin: string, args: string[]): Deno.ChildProcess {
  const cmd = relayedCommand(bin, args);
  return new Deno.Command(cmd.program, {
    args: cmd.args,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Reads the first line of a stream (the reader is kept for the rest). */
async function firstLine(
  reader: ReadableStreamDefaultReader<Uint8Array>,
): Promise<string> {
  let text = "";
  const dec = new TextDecoder();
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += dec.decode(value, { stream: true });
  }
  return text.split("\n")[0]!;
}

/** A program that, like ExifTool at the end of its argfile, never reads stdin to its end: it says "ready" and sleeps. */
const DEAF = ["-c", "echo ready; exec sleep 600"];

Deno.test("stdin relay: the program reads what is written to the relay and writes straight to the relay's caller", async () => {
  const child = relay("cat", []);
  const w = child.stdin.getWriter();
  const r = child.stdout.getReader();
  await w.write(new TextEncoder().encode("first line\n"));
  assert.equal(await firstLine(r), "first line");
  const cat = (await childPids(child.pid))[0]!;
  assert.ok(cat > 0, "cat runs as the relay's child");
  await w.close();
  assert.equal((await exit(child)).code, 0);
  assert.equal(await alive(cat), false);
  // The program was the last holder of the stdout pipe: it ended with it.
  assert.equal((await r.read()).done, true);
  await child.stderr.cancel();
});

/**
 * Starts {@linkcode DEAF} behind the relay, ends the relay with `stop`, and
 * says whether the program is still there once the relay has exited.
 */
async function deafOutlives(
  stop: (child: Deno.ChildProcess) => Promise<void> | void,
): Promise<boolean> {
  const child = relay("sh", DEAF);
  const r = child.stdout.getReader();
  assert.equal(await firstLine(r), "ready");
  const [sleeper] = await childPids(child.pid);
  assert.ok(sleeper, "sleep runs as the relay's child");
  await stop(child);
  await exit(child);
  const outlived = await alive(sleeper);
  await r.cancel();
  await child.stderr.cancel();
  await child.stdin.close().catch(() => {});
  return outlived;
}

Deno.test("stdin relay: a program that never notices the end of its stdin is killed when the relay's stdin ends", async () => {
  assert.equal(await deafOutlives((child) => child.stdin.close()), false);
});

Deno.test("stdin relay: SIGTERM to the relay ends the program with it", async () => {
  assert.equal(await deafOutlives((child) => child.kill("SIGTERM")), false);
});

Deno.test("stdin relay: the program ends when the process that started the relay is killed with SIGKILL", async () => {
  // A parent that starts the relay, says the relay's pid, and waits for ever.
  const script = `
    const cmd = ${JSON.stringify(relayedCommand("sh", DEAF))};
    const child = new Deno.Command(cmd.program, {
      args: cmd.args, stdin: "piped", stdout: "piped",
    }).spawn();
    const r = child.stdout.getReader();
    await r.read(); // "ready"
    console.log(child.pid);
    await child.status;
  `;
  const parent = new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const r = parent.stdout.getReader();
  const relayPid = Number(await firstLine(r));
  const [sleeper] = await childPids(relayPid);
  assert.ok(sleeper, "sleep runs as the relay's child");
  parent.kill("SIGKILL");
  await parent.status;
  await r.cancel();
  assert.equal(await untilGone(sleeper!), true, "sleep outlived the parent");
  assert.equal(
    await untilGone(relayPid),
    true,
    "the relay outlived the parent",
  );
});

/** Runs `bin` behind the relay with nothing on stdin: its exit status and stderr. */
async function ended(bin: string): Promise<[number, string]> {
  const child = relay(bin, []);
  await child.stdin.close();
  const [status, stderr] = await Promise.all([
    exit(child),
    new Response(child.stderr).text(),
    child.stdout.cancel(),
  ]);
  return [status.code, stderr];
}

Deno.test("stdin relay: a missing program is exit status 127 with its name on stderr, one that cannot run 126", async () => {
  assert.deepEqual(await ended("/nonexistent/exiftool"), [
    RELAY_NOT_FOUND,
    "/nonexistent/exiftool: No such file or directory\n",
  ]);
  const dir = await Deno.makeTempDir();
  try {
    const notExec = `${dir}/not_executable`;
    await Deno.writeTextFile(notExec, "#!/bin/sh\n");
    assert.deepEqual(await ended(notExec), [
      RELAY_CANNOT_RUN,
      `${notExec}: Permission denied\n`,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
