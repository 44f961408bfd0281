/**
 * An operator in group `dashcam` runs `status` and `vehicles` while the
 * daemon is stopped: the data dir is 0750 and the databases 0640, so the
 * operator can read but not create files. Both commands must work and must
 * create nothing (no `-wal`, `-shm`, no outbox).
 *
 * As root (CI), the files belong to another user and root runs the CLI
 * without the capabilities that bypass file modes; otherwise the caller's
 * own write permission is taken away (0550/0440), the same for SQLite.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Outbox } from "../../src/sink/outbox.ts";
import { openGraphDb } from "../../src/graph/mod.ts";
import { closeForReaders } from "../../src/shared/mod.ts";
import { DASHCAM_ENV, DASHCAM_FLAGS, MAIN } from "../support/cli.ts";

const ROOT = Deno.uid() === 0;
/** Owner of the files as root: any uid other than the operator's. */
const NOBODY = 65534;

async function listing(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

/** A stopped daemon's data dir: both databases closed cleanly by their writers, one event. */
async function stoppedDataDir(root: string): Promise<string> {
  const dataDir = join(root, "data");
  await Deno.mkdir(dataDir);
  // As Engine.close() leaves it: checkpointed, then closeForReaders().
  const graph = openGraphDb(join(dataDir, "pipeline.db"));
  closeForReaders(graph);
  graph.close();
  const outbox = Outbox.open(join(dataDir, "outbox.db"));
  outbox.add({
    eventKey: "clip:1",
    videoId: "0123456789abcdef",
    trackId: 1,
    frameIdx: 4,
    ts: "2026-11-24T08:00:00.000Z",
    finalPlate: "LS15EBC",
    plateConfidence: 0.91,
    carBbox: [1, 2, 3, 4],
    plateBbox: [5, 6, 7, 8],
  });
  outbox.close();
  return dataDir;
}

/**
 * Takes write access away from the operator: the files belong to another
 * user (nobody), group = the operator's, folder 0750 and files 0640, as
 * the daemon leaves them. As root the operator runs without the capabilities
 * that bypass file modes (see {@linkcode operator}).
 */
async function makeOperatorView(dataDir: string): Promise<void> {
  const files = (await listing(dataDir)).map((f) => join(dataDir, f));
  for (const f of [dataDir, ...files]) {
    await Deno.chown(f, ROOT ? NOBODY : null, Deno.gid());
  }
  await Deno.chmod(dataDir, ROOT ? 0o750 : 0o550);
  for (const f of files) await Deno.chmod(f, ROOT ? 0o640 : 0o440);
}

/** Runs the CLI as the operator: as root, without CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH and CAP_FOWNER (`setpriv`). */
async function operator(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const argv = [Deno.execPath(), "run", ...DASHCAM_FLAGS, MAIN, ...args];
  const [cmd, ...rest] = ROOT
    ? [
      "setpriv",
      "--bounding-set",
      "-dac_override,-dac_read_search,-fowner",
      "--",
      ...argv,
    ]
    : argv;
  const out = await new Deno.Command(cmd, {
    args: rest,
    env: { XDG_RUNTIME_DIR: "/tmp", NO_COLOR: "1", ...DASHCAM_ENV },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

Deno.test("an operator who cannot write the data dir runs `status` and `vehicles`; nothing is created", async () => {
  const root = await Deno.makeTempDir({ prefix: "operator_test_" });
  try {
    const dataDir = await stoppedDataDir(root);
    const before = await listing(dataDir);
    assert.deepEqual(before, ["outbox.db", "pipeline.db"]);
    await makeOperatorView(dataDir);

    const status = await operator(["status", "--data-dir", dataDir]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /outbox: pending=1 sent=0/);

    const vehicles = await operator(["vehicles", "--data-dir", dataDir]);
    assert.equal(vehicles.code, 0, vehicles.stderr);
    assert.match(vehicles.stdout, /LS15EBC/);

    const fuzzy = await operator([
      "vehicles",
      "--data-dir",
      dataDir,
      "--plate",
      "LS15EBO",
      "--fuzzy",
    ]);
    assert.equal(fuzzy.code, 0, fuzzy.stderr);
    assert.match(fuzzy.stdout, /LS15EBC/);

    assert.deepEqual(await listing(dataDir), before);
  } finally {
    await Deno.chmod(join(root, "data"), 0o755).catch(() => {});
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("`vehicles` on a data dir without an outbox says so in one line and creates nothing", async () => {
  const root = await Deno.makeTempDir({ prefix: "operator_test_" });
  try {
    const out = await operator([
      "vehicles",
      "--data-dir",
      join(root, "data"),
    ]);
    assert.equal(out.code, 1, out.stderr);
    const lines = out.stderr.split("\n").filter((l) => l.trim() !== "");
    assert.equal(lines.length, 1, out.stderr);
    assert.match(lines[0], /No outbox at .*data\/outbox\.db/);
    await assert.rejects(Deno.stat(join(root, "data")), Deno.errors.NotFound);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
