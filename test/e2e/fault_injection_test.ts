/**
 * Faults a vehicle meets, mixed in one run of the daemon (`run`) over
 * several clips: SIGKILLs (power cuts) at seeded random points, a Postgres
 * restart, a read-only window on the frames folder, and a row the server
 * refuses (a trigger's RAISE, SQLSTATE P0001). It ends with every event in
 * Postgres exactly once except the refused one, which is set aside with its
 * error and arrives after `sync --once --retry-rejected` once the cause is
 * gone. Bounded: 3 clips of 4 s, 4 rounds. The seed is printed and can be
 * replayed with FAULT_TEST_SEED.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import postgres from "postgres";
import { sha256File } from "../../src/shared/mod.ts";
import { makeTestClip } from "../support/clips.ts";
import { dashcamCommand, runDashcam } from "../support/cli.ts";
import {
  doneCount,
  query,
  resultCount,
  setup,
  until,
} from "../support/daemon.ts";
import { startPgCluster } from "../support/pg_cluster.ts";
import { prng } from "../support/random.ts";

/** A daemon whose stderr can be read while it runs. */
interface LiveDaemon {
  child: Deno.ChildProcess;
  /** stderr so far. */
  text: () => string;
  /** All of stderr, once it closes. */
  done: Promise<string>;
}

function spawnDaemon(config: string): LiveDaemon {
  const child = dashcamCommand(["run", "--config", config], {
    env: { TRIVIAL_DELAY_MS: "5" },
  }).spawn();
  child.stdout.cancel();
  let text = "";
  const done = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      text += decoder.decode(chunk, { stream: true });
    }
    return text;
  })();
  return { child, text: () => text, done };
}

async function kill(d: LiveDaemon): Promise<void> {
  try {
    d.child.kill("SIGKILL");
  } catch { /* exited already */ }
  await d.child.status;
  await d.done;
}

async function mount(...args: string[]): Promise<boolean> {
  const out = await new Deno.Command("mount", {
    args,
    stdout: "null",
    stderr: "null",
  }).output();
  return out.success;
}

/** The outbox's event keys ([] before it exists). */
function outboxKeys(dataDir: string): string[] {
  try {
    const db = new DatabaseSync(join(dataDir, "outbox.db"), {
      readOnly: true,
    });
    try {
      return db.prepare("SELECT event_key FROM events ORDER BY event_key")
        .all().map((r) => String(r.event_key));
    } finally {
      db.close();
    }
  } catch {
    return [];
  }
}

Deno.test({
  name:
    "SIGKILLs, a Postgres restart, a read-only window and a refused row: every event reaches Postgres once, the refused one after --retry-rejected",
  async fn() {
    const seed = Number(
      Deno.env.get("FAULT_TEST_SEED") ?? Date.now() % 100000,
    );
    console.log(`fault injection seed ${seed}`);
    const random = prng(seed);
    await using cluster = await startPgCluster();
    const fleetUrl = cluster.urlFor("dashcam_final");
    const s = await setup({
      pg: { url: fleetUrl, device_id: "van-9" },
      daemon: { sync_interval_s: 0.2 },
      graph: { poll_ms: 10, retry_backoff_ms: 10 },
    });
    // The frames folder is its own mount, so it can be made read-only while
    // the daemon runs (a flaky SD card remounted read-only).
    const frames = join(s.dataDir, "frames");
    await Deno.mkdir(frames, { recursive: true });
    assert.ok(await mount("--bind", frames, frames), "bind mount frames");
    try {
      const cli = (...args: string[]) =>
        runDashcam([...args, "--config", s.config]);
      assert.equal((await cli("migrate")).code, 0);

      const clips = [];
      for (const [i, src] of ["testsrc", "testsrc2", "smptebars"].entries()) {
        clips.push(
          await makeTestClip(s.root, `c${i}.mp4`, {
            durationS: 4,
            source: src,
          }),
        );
      }
      // The server refuses one row: plate P1 of the first clip.
      const refusedVideo = (await sha256File(clips[0])).slice(0, 16);
      const pg = postgres(fleetUrl, { onnotice: () => {} });
      try {
        await pg.unsafe(`
          CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            IF NEW.video_id = '${refusedVideo}' AND NEW.final_plate = 'P1' THEN
              RAISE EXCEPTION 'refused by the fleet: plate under review';
            END IF;
            RETURN NEW;
          END $$;
          CREATE TRIGGER refuse_one BEFORE INSERT ON vehicles
            FOR EACH ROW EXECUTE FUNCTION refuse_one();`);
      } finally {
        await pg.end();
      }
      // The third clip arrives while the frames folder is read-only (round
      // 2), so the daemon surely has frames to write then, however far the
      // first two clips got.
      for (const [i, clip] of clips.slice(0, 2).entries()) {
        await Deno.rename(clip, join(s.inbox, `c${i}.mp4`));
      }
      // Per clip: 20 frames x 3 frame stages + 1 smooth + 4 summaries. A
      // finished clip's results are pruned in the commit that marks it done,
      // so progress counts them through the clips done.
      const perClip = 20 * 3 + 1 + 4;
      const total = 3 * perClip;
      const done = () =>
        resultCount(s.dataDir) + perClip * doneCount(s.dataDir);
      const progress = (k: number) =>
        Math.floor(total * (k + 0.3 + 0.5 * random()) / 5);

      // Round 0: a power cut.
      let d = spawnDaemon(s.config);
      await until(() => done() >= progress(0), d.child);
      await kill(d);

      // Round 1: Postgres restarts while the daemon works, then a power cut.
      d = spawnDaemon(s.config);
      await until(() => done() >= progress(1), d.child);
      await cluster.stop("immediate");
      await until(() => done() >= progress(2), d.child);
      await cluster.start();
      await kill(d);

      // Round 2: the frames folder goes read-only for a while (remounting
      // waits for a moment when no frame file is open for writing).
      d = spawnDaemon(s.config);
      let readOnly = false;
      for (let i = 0; i < 500 && !readOnly; i++) {
        readOnly = await mount("-o", "remount,ro,bind", frames);
      }
      assert.ok(readOnly, "frames folder remounted read-only");
      const before = d.text().length;
      await Deno.rename(clips[2], join(s.inbox, "c2.mp4"));
      assert.ok(
        await until(
          () => /read-only|EROFS/i.test(d.text().slice(before)),
          d.child,
        ),
        `the daemon reports the read-only folder (seed ${seed}):\n${
          d.text().slice(before)
        }`,
      );
      assert.ok(await mount("-o", "remount,rw,bind", frames));
      await until(() => done() >= progress(3), d.child);
      await kill(d);

      // Final round: runs to the end, then stops cleanly.
      d = spawnDaemon(s.config);
      const finished = await until(
        () =>
          doneCount(s.dataDir) === 3 &&
          query<{ n: number }>(
              s.dataDir,
              "SELECT COUNT(*) AS n FROM tasks WHERE status != 'done'",
            )[0]?.n === 0 &&
          outboxKeys(s.dataDir).length === 12,
        d.child,
        180_000,
      );
      assert.ok(finished, `clips finished (seed ${seed}):\n${d.text()}`);
      const failed = query<{ path: string; error: string }>(
        s.dataDir,
        "SELECT path, error FROM video_metadata WHERE status = 'failed'",
      );
      assert.deepEqual(failed, [], `no clip failed (seed ${seed})`);
      // Wait for the sync loop to have set the refused row aside.
      const db = postgres(fleetUrl, { onnotice: () => {} });
      try {
        const pgKeys = async () =>
          (await db<{ event_key: string }[]>`
            SELECT event_key FROM vehicles ORDER BY event_key`).map((r) =>
            r.event_key
          );
        let delivered: string[] = [];
        for (let i = 0; i < 6000 && delivered.length < 11; i++) {
          delivered = await pgKeys();
          if (delivered.length < 11) {
            await new Promise((r) => setTimeout(r, 20));
          }
        }
        d.child.kill("SIGTERM");
        const status = await d.child.status;
        await d.done;
        assert.equal(status.code, 0, `clean stop (seed ${seed})`);

        const all = outboxKeys(s.dataDir);
        assert.equal(all.length, 12);
        const refused = all.filter((k) => !delivered.includes(k));
        assert.equal(refused.length, 1, `one row refused (seed ${seed})`);
        assert.ok(refused[0]!.startsWith(refusedVideo));
        assert.equal(new Set(delivered).size, delivered.length, "no duplicate");
        assert.deepEqual(
          delivered,
          all.filter((k) => k !== refused[0]),
          `every other event exactly once (seed ${seed})`,
        );
        // The refused row is set aside with its error, and said so.
        const st = await cli("status", "--json");
        assert.match(st.stdout, /plate under review/);

        // The cause goes away; the forced retry delivers it, once.
        await db.unsafe("DROP TRIGGER refuse_one ON vehicles");
        const retried = await cli("sync", "--once", "--retry-rejected");
        assert.equal(retried.code, 0, retried.stderr);
        assert.deepEqual(await pgKeys(), all, `all 12 once (seed ${seed})`);
        const again = await cli("sync", "--once", "--retry-rejected");
        assert.equal(again.code, 0, again.stderr);
        assert.deepEqual(await pgKeys(), all);
      } finally {
        await db.end();
      }
    } finally {
      await mount("-o", "remount,rw,bind", frames);
      await new Deno.Command("umount", { args: [frames] }).output();
      await Deno.remove(s.root, { recursive: true });
    }
  },
});
