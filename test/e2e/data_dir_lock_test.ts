/**
 * The data-dir lock comes first: a second `run` or `process` on a data dir
 * in use exits with one line naming the holder's PID, and leaves the first
 * one's spool temp files and outbox as they were (it used to delete the
 * temp files and migrate the outbox before it found the lock).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { dashcamCommand } from "../support/cli.ts";
import { setup, startDaemon, stopWithSigterm } from "../support/daemon.ts";

/** Runs the CLI, killing it when it is still running after `limitMs`. */
async function runBounded(
  args: string[],
  limitMs: number,
): Promise<{ code: number | null; stderr: string }> {
  const child = dashcamCommand(args).spawn();
  child.stdout.cancel();
  const stderr = new Response(child.stderr).text();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const status = await Promise.race([
    child.status,
    new Promise<null>((r) => timer = setTimeout(() => r(null), limitMs)),
  ]);
  clearTimeout(timer);
  if (status === null) {
    child.kill("SIGKILL");
    await child.status;
  }
  return { code: status?.code ?? null, stderr: await stderr };
}

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of Deno.readDirSync(dir)) {
    if (!e.isFile) continue;
    const bytes = Deno.readFileSync(join(dir, e.name));
    out[e.name] = `${bytes.length}:${
      bytes.reduce((h, b) => (h * 31 + b) >>> 0, 7)
    }`;
  }
  return out;
}

Deno.test("a second run or process on a data dir in use changes nothing and names the holder's PID", async () => {
  const s = await setup();
  const first = startDaemon(s);
  try {
    assert.ok(await first.ready, "first daemon started");
    // The first daemon is copying a clip from a USB stick into its spool.
    const temp = join(s.dataDir, "spool", ".spool-in-progress.tmp");
    await Deno.writeFile(temp, new Uint8Array(1024).fill(7));
    const outboxFiles = () =>
      Object.fromEntries(
        Object.entries(snapshot(s.dataDir)).filter(([n]) =>
          n.startsWith("outbox.db")
        ),
      );
    const outboxBefore = outboxFiles();
    assert.ok("outbox.db" in outboxBefore);
    for (
      const args of [
        ["run", "--config", s.config],
        ["process", "--config", s.config, join(s.root, "none.mp4")],
      ]
    ) {
      const second = await runBounded(args, 60_000);
      assert.notEqual(second.code, null, `${args[0]} did not exit`);
      assert.ok(
        await Deno.stat(temp).then(() => true, () => false),
        `${args[0]} deleted the first one's spool temp file`,
      );
      assert.deepEqual(
        outboxFiles(),
        outboxBefore,
        `${args[0]} touched the outbox`,
      );
      assert.equal(second.code, 1, second.stderr);
      const lines = second.stderr.trim().split("\n");
      assert.equal(lines.length, 1, second.stderr);
      assert.match(
        lines[0],
        new RegExp(`data dir ${s.dataDir} is in use by PID ${first.child.pid}`),
      );
    }
  } finally {
    const status = await stopWithSigterm(first, 30_000);
    assert.equal(status.code, 0, await first.stderr);
    await Deno.remove(s.root, { recursive: true });
  }
});
