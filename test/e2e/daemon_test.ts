/**
 * The daemon (`run`) through the real CLI: clips arriving slowly or by
 * rename are each processed once, after they are complete; SIGTERM stops it
 * cleanly; SIGKILL at random moments (power cuts) loses and doubles nothing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { sha256File } from "../../src/ingest/mod.ts";
import { makeTestClip } from "../support/clips.ts";
import { dashcamCommand } from "../support/cli.ts";
import { TRIVIAL_HANDLERS } from "../support/config.ts";

interface Setup {
  root: string;
  inbox: string;
  dataDir: string;
  config: string;
}

async function setup(extra: Record<string, unknown> = {}): Promise<Setup> {
  const root = await Deno.makeTempDir();
  const inbox = join(root, "inbox");
  await Deno.mkdir(inbox);
  const dataDir = join(root, "data");
  const config = join(root, "dashcam.json");
  await Deno.writeTextFile(
    config,
    JSON.stringify({
      data_dir: dataDir,
      inbox_dirs: [inbox],
      handlers_module: new URL(TRIVIAL_HANDLERS).pathname,
      log_level: "info",
      inbox: { settle_s: 0.5, rescan_s: 0.5 },
      graph: { poll_ms: 10, retry_backoff_ms: 10, keep_finished: true },
      ...extra,
    }),
  );
  return { root, inbox, dataDir, config };
}

function query<T>(dataDir: string, sql: string): T[] {
  try {
    const db = new DatabaseSync(join(dataDir, "pipeline.db"), {
      readOnly: true,
    });
    try {
      return db.prepare(sql).all() as T[];
    } finally {
      db.close();
    }
  } catch {
    return []; // not created yet
  }
}

function doneCount(dataDir: string): number {
  return query<{ n: number }>(
    dataDir,
    "SELECT COUNT(*) AS n FROM video_metadata WHERE status = 'done'",
  )[0]?.n ?? 0;
}

function resultCount(dataDir: string): number {
  return query<{ n: number }>(dataDir, "SELECT COUNT(*) AS n FROM results")[0]
    ?.n ?? 0;
}

function events(dataDir: string): string[] {
  const db = new DatabaseSync(join(dataDir, "outbox.db"), { readOnly: true });
  try {
    return db.prepare(
      "SELECT event_key, final_plate, frame_idx, ts FROM events",
    ).all()
      .map((r) => JSON.stringify(Object.values(r))).sort();
  } finally {
    db.close();
  }
}

/** Polls `cond` until true; fails when the daemon exits first or after `limitMs`. */
async function until(
  cond: () => boolean,
  child: Deno.ChildProcess,
  limitMs = 90_000,
): Promise<boolean> {
  let exited = false;
  child.status.then(() => exited = true);
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline && !exited) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return cond();
}

async function stopWithSigterm(
  child: Deno.ChildProcess,
  limitMs: number,
): Promise<Deno.CommandStatus> {
  child.kill("SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const status = await Promise.race([
    child.status,
    new Promise<null>((r) => timer = setTimeout(() => r(null), limitMs)),
  ]);
  clearTimeout(timer);
  if (status === null) {
    child.kill("SIGKILL");
    await child.status;
    assert.fail(`daemon did not exit within ${limitMs} ms of SIGTERM`);
  }
  return status;
}

function startDaemon(
  s: Setup,
  env: Record<string, string> = {},
): { child: Deno.ChildProcess; stderr: Promise<string> } {
  const child = dashcamCommand(["run", "--config", s.config], { env }).spawn();
  child.stdout.cancel();
  return { child, stderr: new Response(child.stderr).text() };
}

Deno.test("run takes clips written slowly in chunks and moved in by rename, each once, only when complete", async () => {
  const s = await setup();
  try {
    const sources = [
      await makeTestClip(s.root, "one.mp4", { durationS: 2 }),
      await makeTestClip(s.root, "two.mp4", {
        durationS: 3,
        source: "testsrc2",
      }),
      await makeTestClip(s.root, "three.mp4", {
        durationS: 2,
        source: "smptebars",
      }),
    ];
    const { child, stderr } = startDaemon(s);
    // 1: written in 16 KiB chunks with pauses, the file held open throughout.
    const bytes = await Deno.readFile(sources[0]);
    const file = await Deno.open(join(s.inbox, "slow copy.mp4"), {
      write: true,
      create: true,
    });
    for (let off = 0; off < bytes.length; off += 16384) {
      await file.write(bytes.subarray(off, off + 16384));
      await new Promise((r) => setTimeout(r, 20));
    }
    file.close();
    // 2 and 3: renamed in, one into a subfolder.
    await Deno.copyFile(sources[1], join(s.root, "two.tmp"));
    await Deno.rename(join(s.root, "two.tmp"), join(s.inbox, "two.mp4"));
    await Deno.mkdir(join(s.inbox, "DCIM"));
    await Deno.copyFile(sources[2], join(s.root, "three.tmp"));
    await Deno.rename(
      join(s.root, "three.tmp"),
      join(s.inbox, "DCIM", "three.mp4"),
    );
    // A non-video file is ignored.
    await Deno.writeTextFile(join(s.inbox, "notes.txt"), "not a clip");

    assert.ok(
      await until(() => doneCount(s.dataDir) === 3, child),
      "three clips done",
    );
    const status = await stopWithSigterm(child, 30_000);
    assert.equal(status.code, 0, await stderr);
    const rows = query<{ sha256: string; path: string; status: string }>(
      s.dataDir,
      "SELECT sha256, path, status FROM video_metadata ORDER BY path",
    );
    assert.equal(rows.length, 3, JSON.stringify(rows));
    const want = (await Promise.all(sources.map(sha256File))).sort();
    assert.deepEqual(
      rows.map((r) => r.sha256).sort(),
      want,
      "each clip read only when complete",
    );
    assert.equal(events(s.dataDir).length, 2 + 3 + 2);
  } finally {
    await Deno.remove(s.root, { recursive: true });
  }
});

Deno.test("SIGTERM stops run with exit 0 within the deadline and leaves no task claimed", async () => {
  const s = await setup({ daemon: { shutdown_deadline_s: 3 } });
  try {
    await makeTestClip(s.inbox, "long.mp4", { durationS: 8 });
    const { child, stderr } = startDaemon(s, { TRIVIAL_DELAY_MS: "100" });
    assert.ok(
      await until(() => resultCount(s.dataDir) >= 5, child),
      "processing started",
    );
    const status = await stopWithSigterm(child, 3000 + 15_000);
    const log = await stderr;
    assert.equal(status.code, 0, log);
    assert.match(log, /stopping/);
    assert.match(log, /stopped/);
    const claimed = query<{ n: number }>(
      s.dataDir,
      "SELECT COUNT(*) AS n FROM tasks WHERE lease_owner IS NOT NULL",
    )[0].n;
    assert.equal(claimed, 0);
    const unfinished = query<{ n: number }>(
      s.dataDir,
      "SELECT COUNT(*) AS n FROM tasks WHERE status = 'queued'",
    )[0].n;
    assert.ok(unfinished > 0, "it stopped mid-clip");
    // The next start finishes the clip.
    const again = startDaemon(s);
    assert.ok(
      await until(() => doneCount(s.dataDir) === 1, again.child),
      "clip finished after restart",
    );
    assert.equal((await stopWithSigterm(again.child, 30_000)).code, 0);
    await again.stderr;
    assert.equal(events(s.dataDir).length, 8); // 40 frames, 5 per "plate"
  } finally {
    await Deno.remove(s.root, { recursive: true });
  }
});

Deno.test("20 power cuts (SIGKILL at random moments) end with the same events as an uninterrupted run", async () => {
  const ref = await setup();
  const cut = await setup();
  try {
    for (const [i, src] of ["testsrc", "testsrc2", "smptebars"].entries()) {
      const clip = await makeTestClip(ref.root, `c${i}.mp4`, {
        durationS: 3,
        source: src,
      });
      await Deno.copyFile(clip, join(ref.inbox, `c${i}.mp4`));
      await Deno.copyFile(clip, join(cut.inbox, `c${i}.mp4`));
    }
    const r = startDaemon(ref);
    assert.ok(await until(() => doneCount(ref.dataDir) === 3, r.child));
    assert.equal((await stopWithSigterm(r.child, 30_000)).code, 0);
    await r.stderr;
    const expected = events(ref.dataDir);
    assert.equal(expected.length, 9);
    const total = resultCount(ref.dataDir);

    const seed = Number(Deno.env.get("POWER_CUT_SEED") ?? Date.now() % 100000);
    let x = seed;
    const random = () =>
      (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
    let kills = 0;
    for (let round = 0; round < 20; round++) {
      const d = startDaemon(cut, { TRIVIAL_DELAY_MS: "5" });
      const target = Math.floor(random() * total);
      await until(
        () =>
          resultCount(cut.dataDir) >= target || doneCount(cut.dataDir) === 3,
        d.child,
      );
      d.child.kill("SIGKILL");
      const st = await d.child.status;
      await d.stderr;
      if (st.signal === "SIGKILL") kills++;
    }
    const last = startDaemon(cut);
    assert.ok(
      await until(() => doneCount(cut.dataDir) === 3, last.child),
      `finished (seed ${seed})`,
    );
    assert.equal((await stopWithSigterm(last.child, 30_000)).code, 0);
    await last.stderr;
    assert.equal(kills, 20);
    assert.deepEqual(events(cut.dataDir), expected, `seed ${seed}`);
    const dups = query<{ n: number }>(
      cut.dataDir,
      `SELECT COUNT(*) AS n FROM (SELECT 1 FROM tasks
         GROUP BY category, video_id, frame_idx, track_id HAVING COUNT(*) > 1)`,
    )[0].n;
    assert.equal(dups, 0);
  } finally {
    await Deno.remove(ref.root, { recursive: true });
    await Deno.remove(cut.root, { recursive: true });
  }
});
