/**
 * The daemon (`run`) through the real CLI: clips arriving slowly or by
 * rename are each processed once, after they are complete; SIGTERM stops it
 * cleanly; SIGKILL at random moments (power cuts) loses and doubles nothing,
 * with finished clips kept and with the default configuration (pruned).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { sha256File } from "../../src/shared/mod.ts";
import { makeTestClip } from "../support/clips.ts";
import { seeded, withSeedNote } from "../support/random.ts";
import { runDashcam } from "../support/cli.ts";
import {
  doneCount,
  duplicateTasks,
  events,
  powerCuts,
  query,
  resultCount,
  sameClipsInBoth,
  setup,
  startDaemon,
  stopWithSigterm,
  until,
} from "../support/daemon.ts";

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
    const daemon = startDaemon(s);
    const { child, stderr } = daemon;
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
    const status = await stopWithSigterm(daemon, 30_000);
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

Deno.test("SIGTERM stops run with exit 0 within the deadline and leaves no task claimed; status and /health answer meanwhile", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const healthPort = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const s = await setup({
    daemon: { shutdown_deadline_s: 3, health_port: healthPort },
  });
  try {
    await makeTestClip(s.inbox, "long.mp4", { durationS: 8 });
    const daemon = startDaemon(s, { TRIVIAL_DELAY_MS: "100" });
    const { child, stderr } = daemon;
    assert.ok(
      await until(() => resultCount(s.dataDir) >= 5, child),
      "processing started",
    );
    // status works while the daemon runs (it only reads the database).
    const live = await runDashcam(["status", "--json", "--config", s.config]);
    assert.equal(live.code, 0, live.stderr);
    const report = JSON.parse(live.stdout);
    assert.equal(
      report.videos.decoding ?? report.videos.decoded ?? report.videos.queued,
      1,
    );
    assert.ok(report.tasks.vehicle_detect.done >= 1);
    // So does the localhost health endpoint.
    const health = await fetch(`http://127.0.0.1:${healthPort}/health`);
    assert.equal(health.status, 200);
    const body = await health.json();
    assert.equal(body.status, "ok");
    // Models loaded: the daemon holds well over 50 MiB.
    assert.ok(body.rss_mib > 50, JSON.stringify(body));
    const metrics =
      await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
    assert.match(
      metrics,
      /^dashcam_tasks\{category="vehicle_detect",status="done"\} [1-9]/m,
    );
    assert.match(metrics, /^dashcam_frames_on_disk \d+$/m);
    assert.match(metrics, /^process_resident_memory_bytes [1-9]\d{7,}$/m);
    // Started as the dashcam task starts it (MALLOC_ARENA_MAX=2): glibc
    // holds to the 2 arenas although the workers and onnxruntime run.
    assert.ok(
      body.malloc_arenas >= 1 && body.malloc_arenas <= 2,
      JSON.stringify(body),
    );
    assert.match(metrics, /^dashcam_malloc_arenas [12]$/m);
    assert.match(metrics, /^dashcam_malloc_heap_bytes [1-9]\d+$/m);
    // Started with the product's V8 flags: the main thread and every worker
    // that has finished a task can collect their garbage (heap_trim.ts).
    assert.match(metrics, /^dashcam_js_heap_trim\{isolate="main"\} 1$/m);
    assert.match(metrics, /^dashcam_js_heap_trim\{isolate="worker-\d+"\} 1$/m);
    assert.doesNotMatch(metrics, /^dashcam_js_heap_trim\{[^}]*\} 0$/m);
    assert.match(
      metrics,
      /^dashcam_js_heap_used_bytes\{isolate="worker-\d+"\} [1-9]\d{6,}$/m,
    );
    const status = await stopWithSigterm(daemon, 3000 + 15_000);
    const log = await stderr;
    assert.equal(status.code, 0, log);
    assert.doesNotMatch(log, /glibc malloc has \d+ arenas/);
    assert.doesNotMatch(log, /gc\(\) is not exposed/);
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
    assert.equal((await stopWithSigterm(again, 30_000)).code, 0);
    await again.stderr;
    assert.equal(events(s.dataDir).length, 8); // 40 frames, 5 per "plate"
  } finally {
    await Deno.remove(s.root, { recursive: true });
  }
});

Deno.test("20 power cuts (SIGKILL at random moments) end with the same events as an uninterrupted run", async () => {
  const s = seeded("POWER_CUT_SEED");
  const { seed, random } = s;
  const ref = await setup();
  const cut = await setup();
  try {
    await sameClipsInBoth(ref, cut, { durationS: 3 });
    const r = startDaemon(ref);
    assert.ok(await until(() => doneCount(ref.dataDir) === 3, r.child));
    assert.equal((await stopWithSigterm(r, 30_000)).code, 0);
    await r.stderr;
    const expected = events(ref.dataDir);
    assert.equal(expected.length, 9);
    const total = resultCount(ref.dataDir);

    const cuts = await powerCuts(cut, {
      rounds: 20,
      totalResults: total,
      clips: 3,
      random,
    });
    const last = startDaemon(cut);
    assert.ok(
      await until(() => doneCount(cut.dataDir) === 3, last.child),
      `finished (seed ${seed})`,
    );
    assert.equal((await stopWithSigterm(last, 30_000)).code, 0);
    await last.stderr;
    assert.equal(cuts.kills, 20);
    assert.ok(
      cuts.inFlight >= 18,
      `only ${cuts.inFlight} of 20 kills hit unfinished clips (seed ${seed})`,
    );
    assert.deepEqual(events(cut.dataDir), expected, `seed ${seed}`);
    const dups = duplicateTasks(cut.dataDir);
    assert.equal(dups, 0);
  } catch (err) {
    throw withSeedNote(err, s);
  } finally {
    await Deno.remove(ref.root, { recursive: true });
    await Deno.remove(cut.root, { recursive: true });
  }
});

Deno.test("power cuts with the default configuration (finished clips pruned) end with the same events, no duplicate and no row left", async () => {
  const s = seeded("POWER_CUT_SEED");
  const { seed, random } = s;
  // keep_finished is left at its default (false): a clip's tasks and
  // results are pruned in the transaction that marks it done.
  const graph = { poll_ms: 10, retry_backoff_ms: 10 };
  const ref = await setup({ graph });
  const cut = await setup({ graph });
  try {
    await sameClipsInBoth(ref, cut, { durationS: 3 });
    const r = startDaemon(ref);
    assert.ok(
      await until(() => doneCount(ref.dataDir) === 3, r.child, 300_000),
    );
    assert.equal((await stopWithSigterm(r, 30_000)).code, 0);
    await r.stderr;
    const expected = events(ref.dataDir);
    assert.equal(expected.length, 9);
    assert.equal(resultCount(ref.dataDir), 0, "pruned");

    // Results survive only until their clip is done, so progress counts a
    // done clip as all its results: 15 frames x 3 stages, smooth, 3 summaries.
    const perClip = 15 * 3 + 1 + 3;
    const progress = (dataDir: string) =>
      resultCount(dataDir) + doneCount(dataDir) * perClip;
    const cuts = await powerCuts(cut, {
      rounds: 4,
      totalResults: 3 * perClip,
      clips: 3,
      random,
      progress,
    });
    const last = startDaemon(cut);
    assert.ok(
      await until(() => doneCount(cut.dataDir) === 3, last.child, 300_000),
      `finished (seed ${seed})`,
    );
    assert.equal((await stopWithSigterm(last, 30_000)).code, 0);
    await last.stderr;
    assert.equal(cuts.kills, 4);
    assert.ok(
      cuts.inFlight >= 3,
      `only ${cuts.inFlight} of 4 kills hit unfinished clips (seed ${seed})`,
    );
    assert.deepEqual(events(cut.dataDir), expected, `seed ${seed}`);
    // Nothing of the finished clips is left behind.
    const left = query<{ n: number }>(
      cut.dataDir,
      "SELECT (SELECT COUNT(*) FROM tasks) + (SELECT COUNT(*) FROM results) AS n",
    )[0].n;
    assert.equal(left, 0, `rows left (seed ${seed})`);
    const frames = [...Deno.readDirSync(join(cut.dataDir, "frames"))];
    assert.deepEqual(
      frames.map((e) => e.name),
      [],
      `frames left (seed ${seed})`,
    );
  } catch (err) {
    throw withSeedNote(err, s);
  } finally {
    await Deno.remove(ref.root, { recursive: true });
    await Deno.remove(cut.root, { recursive: true });
  }
});

Deno.test("run exits non-zero when a replaced worker cannot load its handler, so systemd restarts it", async () => {
  const s = await setup();
  try {
    const flag = join(s.root, "models-gone");
    const daemon = startDaemon(s, {
      TRIVIAL_CRASH_FRAME: "1",
      TRIVIAL_INIT_FAIL_IF: flag,
    });
    assert.ok(await daemon.ready, "daemon started");
    // The model "disappears" after start-up; then a worker dies on frame 1.
    await Deno.writeTextFile(flag, "");
    await makeTestClip(s.inbox, "clip.mp4", { durationS: 1 });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const status = await Promise.race([
      daemon.child.status,
      new Promise<null>((r) => timer = setTimeout(() => r(null), 60_000)),
    ]);
    clearTimeout(timer);
    if (status === null) {
      daemon.child.kill("SIGKILL");
      assert.fail("daemon kept running with a stage it cannot restart");
    }
    assert.equal(status.code, 1);
    const log = await daemon.stderr;
    const errors = log.split("\n").filter((l) => l.includes("ERROR"));
    assert.equal(errors.length, 1, log);
    assert.match(errors[0], /models-gone: planted start-up failure/);
  } finally {
    await Deno.remove(s.root, { recursive: true });
  }
});
