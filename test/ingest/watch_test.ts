import assert from "node:assert/strict";
import { join } from "node:path";
import {
  decideReady,
  InboxWatcher,
  type InboxWatcherOptions,
  isVideoName,
  openForWriting,
  type OpenWriters,
  VIDEO_EXTENSIONS,
} from "../../src/ingest/watch.ts";
import { Logger } from "../../src/log/mod.ts";
import { SHARED_MEDIA } from "../support/shared.ts";

const CLIP = `${SHARED_MEDIA}/clips`;

/** A real clip from the shared media (the smallest, to keep runs light). */
async function realClip(): Promise<string> {
  const names: { path: string; size: number }[] = [];
  for await (const entry of Deno.readDir(CLIP)) {
    if (!entry.isFile || !isVideoName(entry.name, VIDEO_EXTENSIONS)) continue;
    const path = join(CLIP, entry.name);
    names.push({ path, size: (await Deno.stat(path)).size });
  }
  names.sort((a, b) => a.size - b.size);
  assert.ok(names.length > 0, `no clip in ${CLIP}`);
  return names[0].path;
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "watch_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * A stand-in for /proc with one process holding `target` open on fd 3
 * (Deno reads the real /proc only under --allow-all, which the test task
 * does not grant; the parsing is the same).
 */
async function fakeProc(
  dir: string,
  open: Array<{ target: string; flags: string }>,
): Promise<string> {
  const proc = join(dir, "fake-proc");
  await Deno.remove(proc, { recursive: true }).catch(() => {});
  for (const [i, { target, flags }] of open.entries()) {
    const pid = String(100 + i);
    await Deno.mkdir(join(proc, pid, "fd"), { recursive: true });
    await Deno.mkdir(join(proc, pid, "fdinfo"), { recursive: true });
    await Deno.symlink(await Deno.realPath(target), join(proc, pid, "fd", "3"));
    await Deno.writeTextFile(
      join(proc, pid, "fdinfo", "3"),
      `pos:\t0\nflags:\t${flags}\nmnt_id:\t25\n`,
    );
  }
  await Deno.mkdir(join(proc, "self"), { recursive: true }); // non-numeric entries are skipped
  return proc;
}

/** A logger whose journald-style lines land in `lines`. */
function captureLog(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = new Logger({
    level: "debug",
    journald: true,
    sink: (line) => lines.push(line),
  });
  return { log, lines };
}

const NOBODY_WRITING = (): Promise<OpenWriters> =>
  Promise.resolve({ open: new Set(), checked: true, unreadable: 0 });

interface Harness {
  watcher: InboxWatcher;
  found: { path: string; size: number }[];
  lines: string[];
}

function harness(
  dirs: string[],
  options: Partial<InboxWatcherOptions> = {},
): Harness {
  const { log, lines } = captureLog();
  const found: { path: string; size: number }[] = [];
  const watcher = new InboxWatcher({
    dirs,
    watch: false,
    settleMs: 3000,
    log,
    onClip: (path, clip) => {
      found.push({ path, size: clip.size });
    },
    ...options,
  });
  return { watcher, found, lines };
}

/** Waits until `check()` is true, polling; fails after `timeoutMs`. */
async function waitUntil(
  check: () => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const signal = AbortSignal.timeout(timeoutMs);
  while (!check()) {
    if (signal.aborted) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("`decideReady()` is not ready when a file is first seen", () => {
  const d = decideReady(undefined, { size: 100, mtimeMs: 7 }, {
    now: 1000,
    settleMs: 3000,
  });
  assert.deepEqual(d, {
    state: { size: 100, mtimeMs: 7, since: 1000 },
    ready: false,
  });
});

Deno.test("`decideReady()` is ready only once the settle time has passed", () => {
  const prev = { size: 100, mtimeMs: 7, since: 1000 };
  const sample = { size: 100, mtimeMs: 7 };
  assert.equal(
    decideReady(prev, sample, { now: 3999, settleMs: 3000 }).ready,
    false,
  );
  const at = decideReady(prev, sample, { now: 4000, settleMs: 3000 });
  assert.equal(at.ready, true);
  assert.deepEqual(at.state, prev);
});

Deno.test("`decideReady()` restarts the settle time when size or mtime change", () => {
  const prev = { size: 100, mtimeMs: 7, since: 1000 };
  const grown = decideReady(prev, { size: 200, mtimeMs: 7 }, {
    now: 9000,
    settleMs: 3000,
  });
  assert.deepEqual(grown, {
    state: { size: 200, mtimeMs: 7, since: 9000 },
    ready: false,
  });
  const touched = decideReady(prev, { size: 100, mtimeMs: 8 }, {
    now: 9000,
    settleMs: 3000,
  });
  assert.deepEqual(touched.state, { size: 100, mtimeMs: 8, since: 9000 });
  assert.equal(touched.ready, false);
});

Deno.test("`decideReady()` never takes an empty file", () => {
  const prev = { size: 0, mtimeMs: 7, since: 0 };
  const d = decideReady(prev, { size: 0, mtimeMs: 7 }, {
    now: 60_000,
    settleMs: 3000,
  });
  assert.equal(d.ready, false);
});

Deno.test("`isVideoName()` matches video extensions in any case only", () => {
  const yes = ["a.mp4", "B.MOV", "c.Avi", "d.mkv", "e.TS", "f.m4v", "x y.Mp4"];
  const no = ["a.mp4.part", "notes.txt", "mp4", ".mp4", "a.jpg", "a.mp"];
  for (const name of yes) {
    assert.equal(isVideoName(name, VIDEO_EXTENSIONS), true, name);
  }
  for (const name of no) {
    assert.equal(isVideoName(name, VIDEO_EXTENSIONS), false, name);
  }
});

Deno.test("`openForWriting()` finds files open for writing from procfs fd links and fdinfo flags", async () => {
  await withTempDir(async (dir) => {
    const writing = join(dir, "writing.mp4");
    const reading = join(dir, "reading.mp4");
    await Deno.writeTextFile(reading, "r");
    await Deno.writeTextFile(writing, "w");
    // O_WRONLY|O_CREAT (0101) on the clip being written, O_RDONLY on the other.
    let procDir = await fakeProc(dir, [
      { target: writing, flags: "0100101" },
      { target: reading, flags: "0100000" },
    ]);
    const result = await openForWriting([writing, reading], { procDir });
    assert.equal(result.checked, true);
    assert.deepEqual([...result.open], [writing]);
    procDir = await fakeProc(dir, [{ target: reading, flags: "0100002" }]); // O_RDWR
    const rdwr = await openForWriting([writing, reading], { procDir });
    assert.deepEqual([...rdwr.open], [reading]);
    procDir = await fakeProc(dir, []);
    const after = await openForWriting([writing, reading], { procDir });
    assert.deepEqual([...after.open], []);
  });
});

Deno.test("`openForWriting()` reports nothing checked when procfs is missing", async () => {
  const result = await openForWriting(["/etc/hostname"], {
    procDir: "/nonexistent-proc",
  });
  assert.equal(result.checked, false);
  assert.deepEqual(result.open, new Set());
  assert.match(result.reason ?? "", /No such file/);
});

Deno.test("`scanOnce()` reports a clip written in chunks only after it is complete", async () => {
  await withTempDir(async (dir) => {
    const inbox = join(dir, "inbox");
    await Deno.mkdir(inbox);
    let procDir = join(dir, "fake-proc");
    const { watcher, found, lines } = harness([inbox], {
      openWriters: (paths) => openForWriting(paths, { procDir }),
    });
    const path = join(inbox, "20240101_120000_F.mp4");
    const source = await Deno.readFile(await realClip());
    const half = Math.floor(source.length / 2);
    {
      using file = await Deno.open(path, { write: true, createNew: true });
      await file.write(source.subarray(0, half));
      procDir = await fakeProc(dir, [{ target: path, flags: "0100101" }]);
      assert.deepEqual(await watcher.scanOnce(0), []);
      // Unchanged for 5 s, but still open for writing: not taken.
      assert.deepEqual(await watcher.scanOnce(5000), []);
      assert.ok(
        lines.some((l) =>
          l.startsWith("<6>clip is unchanged but still open for writing")
        ),
        lines.join("\n"),
      );
      let off = half;
      while (off < source.length) {
        off += await file.write(source.subarray(off));
      }
      assert.deepEqual(await watcher.scanOnce(6000), []);
    }
    procDir = await fakeProc(dir, []);
    // Closed at 6 s; settled at 6 s + 3 s.
    assert.deepEqual(await watcher.scanOnce(8999), []);
    assert.deepEqual(await watcher.scanOnce(9000), [path]);
    assert.deepEqual(await watcher.scanOnce(20_000), []);
    assert.deepEqual(found, [{ path, size: source.length }]);
    assert.equal(watcher.pendingCount, 0);
  });
});

Deno.test("`scanOnce()` reports a rewritten clip again, once per size and mtime", async () => {
  await withTempDir(async (dir) => {
    const { watcher, found } = harness([dir], {
      openWriters: NOBODY_WRITING,
    });
    const path = join(dir, "loop.mov");
    await Deno.writeTextFile(path, "first");
    await watcher.scanOnce(0);
    assert.deepEqual(await watcher.scanOnce(3000), [path]);
    await Deno.writeTextFile(path, "second take");
    assert.deepEqual(await watcher.scanOnce(4000), []);
    assert.deepEqual(await watcher.scanOnce(7000), [path]);
    assert.deepEqual(await watcher.scanOnce(10_000), []);
    assert.deepEqual(found.map((f) => f.size), [5, 11]);
  });
});

Deno.test("`scanOnce()` ignores non-video and hidden files with one debug line each", async () => {
  await withTempDir(async (dir) => {
    const { watcher, found, lines } = harness([dir], {
      openWriters: NOBODY_WRITING,
    });
    await Deno.writeTextFile(join(dir, "notes.txt"), "x");
    await Deno.writeTextFile(join(dir, "clip.mp4.part"), "x");
    await Deno.writeTextFile(join(dir, "._clip.mp4"), "x");
    await Deno.mkdir(join(dir, "DCIM", "100MEDIA"), { recursive: true });
    await Deno.writeTextFile(join(dir, "DCIM", "100MEDIA", "A.MP4"), "video");
    await watcher.scanOnce(0);
    await watcher.scanOnce(3000);
    await watcher.scanOnce(6000);
    assert.deepEqual(found.map((f) => f.path), [
      join(dir, "DCIM", "100MEDIA", "A.MP4"),
    ]);
    const ignored = lines.filter((l) => l.startsWith("<7>not a video file"));
    assert.deepEqual(ignored.sort(), [
      `<7>not a video file; ignored path=${join(dir, "clip.mp4.part")}`,
      `<7>not a video file; ignored path=${join(dir, "notes.txt")}`,
    ]);
    assert.equal(
      lines.filter((l) => l.startsWith("<7>hidden file in the inbox")).length,
      1,
    );
  });
});

Deno.test("`scanOnce()` does not follow a symlink pointing outside the inbox", async () => {
  await withTempDir(async (root) => {
    const inbox = join(root, "inbox");
    const outside = join(root, "outside");
    await Deno.mkdir(inbox);
    await Deno.mkdir(join(outside, "sub"), { recursive: true });
    await Deno.writeTextFile(join(outside, "secret.mp4"), "video");
    await Deno.writeTextFile(join(outside, "sub", "deep.mp4"), "video");
    await Deno.symlink(join(outside, "secret.mp4"), join(inbox, "link.mp4"));
    await Deno.symlink(join(outside, "sub"), join(inbox, "linkdir"));
    await Deno.writeTextFile(join(inbox, "real.mp4"), "video");
    await Deno.symlink(join(inbox, "real.mp4"), join(inbox, "alias.mp4"));
    const { watcher, found, lines } = harness([inbox], {
      openWriters: NOBODY_WRITING,
    });
    await watcher.scanOnce(0);
    await watcher.scanOnce(3000);
    assert.deepEqual(found.map((f) => f.path), [join(inbox, "real.mp4")]);
    const outsideLines = lines.filter((l) =>
      l.startsWith("<4>symlink points outside the inbox; not followed")
    );
    assert.deepEqual(
      outsideLines.sort(),
      [
        `<4>symlink points outside the inbox; not followed path=${
          join(inbox, "link.mp4")
        } target=${join(outside, "secret.mp4")}`,
        `<4>symlink points outside the inbox; not followed path=${
          join(inbox, "linkdir")
        } target=${join(outside, "sub")}`,
      ].sort(),
    );
    assert.ok(
      lines.some((l) =>
        l.startsWith("<7>symlink in the inbox not followed") &&
        l.includes("alias.mp4")
      ),
    );
  });
});

Deno.test("`scanOnce()` takes names with spaces, quotes, newlines and skips non-UTF-8 ones", async () => {
  await withTempDir(async (dir) => {
    const names = [
      "with space.mp4",
      'it\'s "quoted".mp4',
      "new\nline.mp4",
      "-dash.mp4",
      "ünïcødé 日本.mkv",
    ];
    for (const name of names) await Deno.writeTextFile(join(dir, name), "v");
    // A name with bytes 0xff 0xfe cannot be written from Deno: use sh.
    const sh = await new Deno.Command("sh", {
      args: ["-c", 'printf v > "$1/$(printf "bad\\377\\376.mp4")"', "sh", dir],
    }).output();
    assert.ok(sh.success);
    const { watcher, found, lines } = harness([dir], {
      openWriters: NOBODY_WRITING,
    });
    await watcher.scanOnce(0);
    await watcher.scanOnce(3000);
    assert.deepEqual(
      found.map((f) => f.path).sort(),
      names.map((n) => join(dir, n)).sort(),
    );
    const bad = lines.filter((l) => l.includes("not valid UTF-8"));
    assert.equal(bad.length, 1, lines.join("\n"));
    assert.ok(bad[0].startsWith("<4>"));
    assert.ok(
      lines.every((l) => !l.includes("\n")),
      "every log line is one line",
    );
  });
});

Deno.test("`scanOnce()` picks an inbox folder up again after it is removed and re-created", async () => {
  await withTempDir(async (root) => {
    const inbox = join(root, "sd");
    const { watcher, found, lines } = harness([inbox], {
      openWriters: NOBODY_WRITING,
    });
    // Missing at start: a warning, no crash.
    assert.deepEqual(await watcher.scanOnce(0), []);
    assert.ok(
      lines.some((l) => l.startsWith("<4>inbox folder is not available")),
    );
    await Deno.mkdir(inbox);
    await Deno.writeTextFile(join(inbox, "a.mp4"), "a");
    await watcher.scanOnce(1000);
    assert.deepEqual(await watcher.scanOnce(4000), [join(inbox, "a.mp4")]);
    // SD card out.
    await Deno.remove(inbox, { recursive: true });
    assert.deepEqual(await watcher.scanOnce(5000), []);
    assert.equal(
      lines.filter((l) => l.startsWith("<4>inbox folder is not available"))
        .length,
      2,
    );
    // SD card back, with the old clip and a new one.
    await Deno.mkdir(inbox);
    await Deno.writeTextFile(join(inbox, "a.mp4"), "a");
    await Deno.writeTextFile(join(inbox, "b.mp4"), "bb");
    await watcher.scanOnce(6000);
    assert.ok(lines.some((l) => l.startsWith("<6>inbox folder is back")));
    await watcher.scanOnce(9000);
    // a.mp4 has a new mtime, so it is offered again (the engine dedups by hash).
    assert.deepEqual(found.map((f) => f.path).sort(), [
      join(inbox, "a.mp4"),
      join(inbox, "a.mp4"),
      join(inbox, "b.mp4"),
    ]);
  });
});

Deno.test("`scanOnce()` offers a clip again after `onClip` throws, warning once", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "c.mp4");
    await Deno.writeTextFile(path, "clip");
    let calls = 0;
    const { watcher, lines } = harness([dir], {
      openWriters: NOBODY_WRITING,
      onClip: () => {
        calls++;
        if (calls <= 2) throw new Error("disk full");
      },
    });
    await watcher.scanOnce(0);
    assert.deepEqual(await watcher.scanOnce(3000), []);
    // Rediscovered by the next rescan, settled again, fails again.
    assert.deepEqual(await watcher.scanOnce(4000), []);
    assert.deepEqual(await watcher.scanOnce(7000), []);
    assert.deepEqual(await watcher.scanOnce(8000), []);
    assert.deepEqual(await watcher.scanOnce(11_000), [path]);
    assert.equal(calls, 3);
    assert.deepEqual(
      lines.filter((l) => l.includes("taking the clip failed")),
      [
        `<4>taking the clip failed; it is offered again later: disk full path=${path}`,
      ],
    );
  });
});

Deno.test("`InboxWatcher` with `Deno.watchFs` takes clips copied slowly and moved in, once each, when complete", async () => {
  await withTempDir(async (root) => {
    const inbox = join(root, "inbox");
    const staging = join(root, "staging");
    await Deno.mkdir(inbox);
    await Deno.mkdir(staging);
    const source = await Deno.readFile(await realClip());
    const seen: { path: string; size: number; writerDone: boolean }[] = [];
    const done = new Set<string>();
    const { log, lines } = captureLog();
    const watcher = new InboxWatcher({
      dirs: [inbox],
      settleMs: 300,
      pollMs: 50,
      // Long: the clips must be found through events, not by the rescan.
      rescanMs: 600_000,
      log,
      onClip: (path, clip) => {
        seen.push({ path, size: clip.size, writerDone: done.has(path) });
      },
    });
    watcher.start();
    try {
      await waitUntil(
        () => lines.some((l) => l.startsWith("<6>watching inbox folder")),
        "the first scan",
      );
      // 1. Copied slowly in 16 chunks into a new subfolder.
      await Deno.mkdir(join(inbox, "DCIM"));
      const slow = join(inbox, "DCIM", "slow copy.mp4");
      {
        using file = await Deno.open(slow, { write: true, createNew: true });
        const chunk = Math.ceil(source.length / 16);
        for (let off = 0; off < source.length; off += chunk) {
          const part = source.subarray(
            off,
            Math.min(off + chunk, source.length),
          );
          let n = 0;
          while (n < part.length) n += await file.write(part.subarray(n));
          await new Promise((r) => setTimeout(r, 25)); // a slow writer
        }
        done.add(slow);
      }
      // 2. Written elsewhere and renamed in.
      const staged = join(staging, "moved.mp4");
      await Deno.writeFile(staged, source);
      const moved = join(inbox, "moved.mp4");
      done.add(moved);
      await Deno.rename(staged, moved);
      // 3. Written under a temporary name in the inbox, then renamed.
      const part = join(inbox, "renamed.mp4.part");
      await Deno.writeFile(part, source);
      const renamed = join(inbox, "renamed.mp4");
      done.add(renamed);
      await Deno.rename(part, renamed);

      await waitUntil(() => seen.length >= 3, "three clips");
      assert.deepEqual(
        seen.map((s) => s.path).sort(),
        [moved, renamed, slow].sort(),
      );
      for (const s of seen) {
        assert.equal(s.writerDone, true, `${s.path} reported while written`);
        assert.equal(s.size, source.length);
      }
      // Once each: a later check finds nothing new.
      assert.deepEqual(await watcher.checkPending(), []);
      assert.equal(seen.length, 3);
    } finally {
      await watcher.close();
    }
  });
});

Deno.test("`InboxWatcher` with `Deno.watchFs` watches a removed and re-created folder again", async () => {
  await withTempDir(async (root) => {
    const inbox = join(root, "sd");
    await Deno.mkdir(inbox);
    const seen: string[] = [];
    const { log, lines } = captureLog();
    const watcher = new InboxWatcher({
      dirs: [inbox],
      settleMs: 200,
      pollMs: 50,
      rescanMs: 600_000,
      log,
      onClip: (path) => {
        seen.push(path);
      },
    });
    watcher.start();
    try {
      await waitUntil(
        () => lines.some((l) => l.startsWith("<6>watching inbox folder")),
        "the first scan",
      );
      await Deno.writeTextFile(join(inbox, "one.mp4"), "1");
      await waitUntil(() => seen.length === 1, "the first clip");
      await Deno.remove(inbox, { recursive: true });
      await waitUntil(
        () =>
          lines.some((l) => l.startsWith("<4>inbox folder is not available")),
        "the missing-folder warning",
      );
      await Deno.mkdir(inbox);
      await waitUntil(
        () => lines.some((l) => l.startsWith("<6>inbox folder is back")),
        "the folder-back line",
      );
      // Only a restarted watch (or a rescan, 10 min away) can see this one.
      await Deno.writeTextFile(join(inbox, "two.mp4"), "22");
      await waitUntil(() => seen.length === 2, "the clip in the new folder");
      assert.deepEqual(seen, [join(inbox, "one.mp4"), join(inbox, "two.mp4")]);
    } finally {
      await watcher.close();
    }
  });
});

Deno.test("`scanOnce()` says once that an empty clip waits for data, and warns once when it stays empty past the settle time", async () => {
  await withTempDir(async (dir) => {
    const { watcher, found, lines } = harness([dir], {
      openWriters: NOBODY_WRITING,
    });
    const path = join(dir, "empty.mp4");
    await Deno.writeFile(path, new Uint8Array(0));
    await watcher.scanOnce(0);
    await watcher.scanOnce(1000);
    assert.deepEqual(
      lines.filter((l) => l.includes("empty")),
      [`<6>clip is empty; waiting for data path=${path}`],
    );
    await watcher.scanOnce(3000);
    await watcher.scanOnce(6000);
    await watcher.scanOnce(9000);
    assert.deepEqual(
      lines.filter((l) => l.includes("empty")),
      [
        `<6>clip is empty; waiting for data path=${path}`,
        `<4>clip is still empty after the settle time; waiting for data path=${path} settle_ms=3000`,
      ],
    );
    assert.equal(found.length, 0);
    // Still watched: once filled and settled, it is taken.
    await Deno.writeTextFile(path, "video");
    await watcher.scanOnce(10_000);
    await watcher.scanOnce(13_000);
    assert.deepEqual(found.map((f) => f.path), [path]);
  });
});

Deno.test("`InboxWatcher` with `Deno.watchFs` keeps watching after a file with a non-UTF-8 name appears", async () => {
  await withTempDir(async (inbox) => {
    const seen: string[] = [];
    const { log, lines } = captureLog();
    const watcher = new InboxWatcher({
      dirs: [inbox],
      settleMs: 100,
      pollMs: 50,
      // Long: the clip must be found through events, not by the rescan.
      rescanMs: 600_000,
      openWriters: NOBODY_WRITING,
      log,
      onClip: (path) => {
        seen.push(path);
      },
    });
    watcher.start();
    try {
      await waitUntil(
        () => lines.some((l) => l.startsWith("<6>watching inbox folder")),
        "the first scan",
      );
      const sh = await new Deno.Command("sh", {
        args: [
          "-c",
          'printf v > "$1/$(printf "bad\\377\\376.mp4")"',
          "sh",
          inbox,
        ],
      }).output();
      assert.ok(sh.success);
      // inotify keeps order: the bad name's event is read (and rejects)
      // before the next clip's.
      const good = join(inbox, "after.mp4");
      await Deno.writeTextFile(good, "video");
      await waitUntil(
        () => seen.includes(good),
        "the next clip through events",
      );
      assert.deepEqual(seen, [good]);
      assert.ok(lines.some((l) => l.includes("not valid UTF-8")));
      assert.ok(
        !lines.some((l) => l.includes("inbox watch stopped")),
        lines.join("\n"),
      );
      assert.ok(
        lines.filter((l) => l.includes("not valid UTF-8")).every((l) =>
          l.startsWith("<4>")
        ),
      );
    } finally {
      await watcher.close();
    }
  });
});

Deno.test("`scanOnce()` forgets reported clips once they leave the inbox (memory bounded by the inbox, not by the daemon's life)", async () => {
  await withTempDir(async (dir) => {
    const inbox = join(dir, "inbox");
    await Deno.mkdir(inbox);
    const { watcher, found } = harness([inbox], {
      openWriters: () =>
        Promise.resolve({
          open: new Set<string>(),
          checked: true,
          unreadable: 0,
        }),
    });
    const mtime = new Date("2024-01-01T12:00:00Z");
    const write = async (i: number) => {
      const path = join(inbox, `clip_${String(i).padStart(4, "0")}.mp4`);
      await Deno.writeFile(path, new Uint8Array([1, 2, 3, i & 0xff]));
      await Deno.utime(path, mtime, mtime);
      return path;
    };
    let now = 0;
    // A loop recording: 100 clips arrive over time, each deleted afterwards.
    for (let i = 0; i < 100; i++) {
      await write(i);
      await watcher.scanOnce(now);
      now += 5000;
      await watcher.scanOnce(now); // settled: reported
      await Deno.remove(join(inbox, `clip_${String(i).padStart(4, "0")}.mp4`));
    }
    assert.equal(found.length, 100);
    await watcher.scanOnce(now);
    assert.equal(watcher.reportedCount, 0);
    // The same name with the same size and mtime is a new clip now.
    const again = await write(0);
    await watcher.scanOnce(now + 1000);
    await watcher.scanOnce(now + 10_000);
    assert.deepEqual(found.at(-1), { path: again, size: 4 });
    assert.equal(found.length, 101);
    assert.equal(watcher.reportedCount, 1);
  });
});
