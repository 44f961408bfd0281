/**
 * The daemon's (`run`) intake paths that move or remove clips, through the
 * real CLI: `inbox.delete_originals` (an original goes only once its events
 * are in the outbox, never for a failed clip, never when off) and the USB
 * spool (a clip under `inbox.removable_prefixes` is copied to
 * `DATA_DIR/spool` and processed from there, so pulling the stick mid-run
 * loses nothing).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { videoIdFromHash } from "../../src/ingest/mod.ts";
import { sha256File } from "../../src/shared/mod.ts";
import { makeTestClip } from "../support/clips.ts";
import {
  doneCount,
  events,
  query,
  sameClipsInBoth,
  type Setup,
  setup,
  startDaemon,
  stopWithSigterm,
  until,
} from "../support/daemon.ts";
import { FAULTY_HANDLERS } from "../support/config.ts";

/** Bound of each wait: generous, as the machine may be shared and busy. */
const LIMIT_MS = 300_000;

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Events of one clip in the outbox (0 before the outbox exists). */
function outboxEventsOf(dataDir: string, videoId: string): number {
  try {
    const db = new DatabaseSync(join(dataDir, "outbox.db"), { readOnly: true });
    try {
      return Number(
        (db.prepare("SELECT COUNT(*) AS n FROM events WHERE video_id = ?")
          .get(videoId) as { n: number }).n,
      );
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
}

function failedCount(dataDir: string): number {
  return query<{ n: number }>(
    dataDir,
    "SELECT COUNT(*) AS n FROM video_metadata WHERE status = 'failed'",
  )[0]?.n ?? 0;
}

async function clipId(path: string): Promise<string> {
  return videoIdFromHash(await sha256File(path));
}

Deno.test("inbox.delete_originals deletes a clip only once all its events are in the outbox, and never a failed clip", async () => {
  const s = await setup({
    handlers_module: FAULTY_HANDLERS,
    inbox: { settle_s: 0.5, rescan_s: 0.5, delete_originals: true },
  });
  try {
    // 2 s at 5 fps: 10 frames, 5 per "plate": 2 events.
    const good = await makeTestClip(s.root, "good.mp4", { durationS: 2 });
    const goodId = await clipId(good);
    // Fails in plate_smooth (after its frames were processed).
    const late = await makeTestClip(s.root, "smooth-fails.mp4", {
      durationS: 1,
      source: "testsrc2",
    });
    // Fails at intake (ffprobe refuses it).
    const broken = join(s.root, "broken.mp4");
    await Deno.writeFile(broken, new Uint8Array(4096).fill(7));
    for (const f of [good, late, broken]) {
      await Deno.rename(f, join(s.inbox, f.slice(f.lastIndexOf("/") + 1)));
    }
    const daemon = startDaemon(s, { TRIVIAL_DELAY_MS: "30" });
    // Each time the original is seen gone, count its events in the outbox.
    let eventsWhenDeleted: number | null = null;
    assert.ok(
      await until(
        () => {
          if (
            eventsWhenDeleted === null && !exists(join(s.inbox, "good.mp4"))
          ) {
            eventsWhenDeleted = outboxEventsOf(s.dataDir, goodId);
          }
          return eventsWhenDeleted !== null && failedCount(s.dataDir) === 2;
        },
        daemon.child,
        LIMIT_MS,
      ),
      "good clip deleted and both bad clips failed",
    );
    // Once failed, nothing more happens to those clips: stop, then look.
    const status = await stopWithSigterm(daemon, 30_000);
    const log = await daemon.stderr;
    assert.equal(status.code, 0, log);
    assert.equal(eventsWhenDeleted, 2, "deleted before its events were in");
    assert.equal(outboxEventsOf(s.dataDir, goodId), 2);
    assert.match(log, /original clip deleted/);
    assert.ok(exists(join(s.inbox, "smooth-fails.mp4")), "failed clip kept");
    assert.ok(exists(join(s.inbox, "broken.mp4")), "unreadable clip kept");
    assert.equal(doneCount(s.dataDir), 1);
  } finally {
    await Deno.remove(s.root, { recursive: true });
  }
});

Deno.test("with inbox.delete_originals off (the default) a processed clip stays in the inbox", async () => {
  const s = await setup();
  try {
    const clip = await makeTestClip(s.inbox, "keep.mp4", { durationS: 1 });
    const before = await sha256File(clip);
    const daemon = startDaemon(s);
    assert.ok(
      await until(() => doneCount(s.dataDir) === 1, daemon.child, LIMIT_MS),
      "clip done",
    );
    // The deletion would follow the clip's end at once; a clean stop waits
    // for the daemon's own work, so looking after it is not early.
    const status = await stopWithSigterm(daemon, 30_000);
    const log = await daemon.stderr;
    assert.equal(status.code, 0, log);
    assert.equal(events(s.dataDir).length, 1);
    assert.ok(exists(clip), "original kept");
    assert.equal(await sha256File(clip), before, "original untouched");
    assert.doesNotMatch(log, /original clip deleted/);
  } finally {
    await Deno.remove(s.root, { recursive: true });
  }
});

Deno.test("a clip on removable media is spooled, processed from the copy, and pulling the stick mid-run loses nothing", async () => {
  const ref = await setup();
  const root = await Deno.makeTempDir();
  const media = join(root, "media");
  const stick = join(media, "usb0");
  await Deno.mkdir(stick, { recursive: true });
  const usb: Setup = {
    ...await setup({
      inbox_dirs: [stick],
      inbox: { settle_s: 0.5, rescan_s: 0.5, removable_prefixes: [media] },
    }),
    inbox: stick,
  };
  try {
    await sameClipsInBoth(ref, usb, { durationS: 3 });
    const r = startDaemon(ref);
    assert.ok(
      await until(() => doneCount(ref.dataDir) === 3, r.child, LIMIT_MS),
    );
    assert.equal((await stopWithSigterm(r, 30_000)).code, 0, await r.stderr);
    const expected = events(ref.dataDir);
    assert.equal(expected.length, 9);

    const spool = join(usb.dataDir, "spool");
    const daemon = startDaemon(usb, { TRIVIAL_DELAY_MS: "60" });
    // All three taken (copied and registered), none finished yet.
    assert.ok(
      await until(
        () => query(usb.dataDir, "SELECT 1 FROM video_metadata").length === 3,
        daemon.child,
        LIMIT_MS,
      ),
      "three clips taken",
    );
    assert.ok(doneCount(usb.dataDir) < 3, "the stick is pulled mid-run");
    const rows = query<{ path: string }>(
      usb.dataDir,
      "SELECT path FROM video_metadata",
    );
    for (const row of rows) {
      assert.ok(row.path.startsWith(spool + "/"), `${row.path} not spooled`);
    }
    // Pull the stick.
    await Deno.remove(media, { recursive: true });
    assert.ok(
      await until(() => doneCount(usb.dataDir) === 3, daemon.child, LIMIT_MS),
      "every clip finished without the stick",
    );
    // The spooled copies go once their events are in the outbox.
    assert.ok(
      await until(
        () => [...Deno.readDirSync(spool)].length === 0,
        daemon.child,
        LIMIT_MS,
      ),
      `spool not emptied: ${[...Deno.readDirSync(spool)].map((e) => e.name)}`,
    );
    const status = await stopWithSigterm(daemon, 30_000);
    assert.equal(status.code, 0, await daemon.stderr);
    assert.deepEqual(events(usb.dataDir), expected);
  } finally {
    await Deno.remove(ref.root, { recursive: true });
    await Deno.remove(usb.root, { recursive: true });
    await Deno.remove(root, { recursive: true });
  }
});
