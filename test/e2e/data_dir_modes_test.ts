/**
 * Plates are personal data: with umask 022 every folder a clip run creates
 * in the data dir is 0750 and every file 0640 (databases with their -wal,
 * the lock, spooled clips, frames, plate crops, evidence PNGs). They used to
 * be 0755 and 0644.
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { DASHCAM_FLAGS, MAIN } from "../support/cli.ts";
import { doneCount } from "../support/daemon.ts";
import { SHARED_MEDIA, TEST_MODELS } from "../support/shared.ts";

/** Records the mode of every path under `root` (paths that vanish mid-walk are skipped). */
function sample(root: string, seen: Map<string, Set<number>>): void {
  const walk = (dir: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch {
      return;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      let mode: number;
      try {
        mode = Deno.lstatSync(path).mode! & 0o777;
      } catch {
        continue;
      }
      const key = relative(root, path) + (e.isDirectory ? "/" : "");
      if (!seen.has(key)) seen.set(key, new Set());
      seen.get(key)!.add(mode);
      if (e.isDirectory) walk(path);
    }
  };
  try {
    const mode = Deno.statSync(root).mode! & 0o777;
    if (!seen.has("./")) seen.set("./", new Set());
    seen.get("./")!.add(mode);
  } catch {
    return;
  }
  walk(root);
}

Deno.test("with umask 022, a clip run creates data-dir folders 0750 and files 0640", async () => {
  const root = await Deno.makeTempDir({ prefix: "data_dir_modes_test_" });
  const inbox = join(root, "usb");
  const dataDir = join(root, "data");
  await Deno.mkdir(inbox);
  const config = join(root, "dashcam.json");
  await Deno.writeTextFile(
    config,
    JSON.stringify({
      data_dir: dataDir,
      models_dir: TEST_MODELS,
      inbox_dirs: [inbox],
      log_level: "warn",
      // The inbox counts as a USB stick: clips go through the spool.
      inbox: { settle_s: 0.5, rescan_s: 0.5, removable_prefixes: [inbox] },
    }),
  );
  await Deno.copyFile(
    `${SHARED_MEDIA}/clips/in_convoy_portrait.mp4`,
    join(inbox, "clip.mp4"),
  );
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      'umask 022 && exec "$@"',
      "sh",
      Deno.execPath(),
      "run",
      ...DASHCAM_FLAGS,
      MAIN,
      "run",
      "--config",
      config,
    ],
    env: { XDG_RUNTIME_DIR: "/tmp" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  let exited = false;
  child.status.then(() => exited = true);
  const seen = new Map<string, Set<number>>();
  try {
    const deadline = Date.now() + 240_000;
    while (!exited && Date.now() < deadline && doneCount(dataDir) < 1) {
      sample(dataDir, seen);
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(doneCount(dataDir), 1, "the clip was processed");
    sample(dataDir, seen);
  } finally {
    if (!exited) child.kill("SIGTERM");
    await child.status;
  }
  sample(dataDir, seen);
  const log = await stderr;
  const wrong = [...seen].flatMap(([path, modes]) =>
    [...modes].filter((m) => m !== (path.endsWith("/") ? 0o750 : 0o640))
      .map((m) => `${path} ${m.toString(8)}`)
  );
  assert.deepEqual(wrong, [], log);
  // Every kind of file the issue names was seen (and so checked).
  const paths = [...seen.keys()];
  for (
    const kind of [
      /^pipeline\.db$/,
      /^pipeline\.db-wal$/,
      /^outbox\.db$/,
      /^outbox\.db-wal$/,
      /^dashcam\.lock$/,
      /^spool\/[0-9a-f]{64}\.mp4$/,
      /^frames\/[0-9a-f]+\/[^/]+\.ppm$/,
      /^crops\/[0-9a-f]+\/[^/]+\.ppm$/,
      /^evidence\/[0-9a-f]+\/\d+\.png$/,
    ]
  ) {
    assert.ok(paths.some((p) => kind.test(p)), `no ${kind} in ${paths}`);
  }
  await Deno.remove(root, { recursive: true });
});
