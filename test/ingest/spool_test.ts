import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { SHARED_MEDIA } from "../support/shared.ts";
import { join } from "node:path";
import {
  DEFAULT_REMOVABLE_PREFIXES,
  freeSpaceBytes,
  isRemovablePath,
  parseDfAvail,
  removeSpoolTemps,
  spoolClip,
} from "../../src/ingest/spool.ts";

const CLIP = `${SHARED_MEDIA}/clips/in_convoy_portrait.mp4`;
const MIB = 1024 * 1024;
/** sha256("abc"), from FIPS 180-2 appendix B.1. */
const SHA_ABC =
  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "spool_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

const PLENTY = () => Promise.resolve(100_000 * MIB);

Deno.test("`isRemovablePath()` matches whole path segments of the prefixes", () => {
  const prefixes = DEFAULT_REMOVABLE_PREFIXES;
  assert.equal(isRemovablePath("/media/usb0/DCIM/a.mp4", prefixes), true);
  assert.equal(isRemovablePath("/run/media/pi/CARD/a.mp4", prefixes), true);
  assert.equal(isRemovablePath("/mnt/usb/a.mp4", prefixes), true);
  assert.equal(isRemovablePath("/mediafiles/a.mp4", prefixes), false);
  assert.equal(isRemovablePath("/var/lib/dashcam/a.mp4", prefixes), false);
  assert.equal(isRemovablePath("/media/../var/a.mp4", prefixes), false);
  assert.equal(isRemovablePath("/srv/sd/a.mp4", ["/srv/sd/"]), true);
});

Deno.test("`parseDfAvail()` reads df's byte count and rejects other output", () => {
  assert.equal(parseDfAvail("      Avail\n84649906176\n"), 84649906176);
  assert.equal(parseDfAvail("Avail\n0\n"), 0);
  assert.throws(
    () => parseDfAvail("df: /nope: No such file or directory\n"),
    SyntaxError,
  );
});

Deno.test("`freeSpaceBytes()` gives the same figure through statfs and df", async () => {
  await withTempDir(async (dir) => {
    const viaStatfs = await freeSpaceBytes(dir, { method: "statfs" });
    const viaDf = await freeSpaceBytes(dir, { method: "df" });
    assert.ok(viaStatfs > 0);
    // Other processes write meanwhile: allow 256 MiB of drift.
    assert.ok(
      Math.abs(viaStatfs - viaDf) < 256 * MIB,
      `statfs ${viaStatfs} vs df ${viaDf}`,
    );
    await assert.rejects(
      freeSpaceBytes(join(dir, "missing"), { method: "statfs" }),
      /Cannot read free space of .*missing/,
    );
  });
});

Deno.test("`spoolClip()` leaves a clip on local storage in place", async () => {
  await withTempDir(async (dir) => {
    const spoolDir = join(dir, "spool");
    const result = await spoolClip(CLIP, { spoolDir, removable: false });
    assert.deepEqual(result, { kind: "in_place", path: CLIP });
    await assert.rejects(Deno.stat(spoolDir), Deno.errors.NotFound);
  });
});

Deno.test("`spoolClip()` names the copy by content hash and extension", async () => {
  await withTempDir(async (dir) => {
    const src = join(dir, "usb", "20240101_120000.MP4");
    await Deno.mkdir(join(dir, "usb"));
    await Deno.writeTextFile(src, "abc");
    const spoolDir = join(dir, "spool");
    const result = await spoolClip(src, {
      spoolDir,
      removable: true,
      freeSpace: PLENTY,
    });
    assert.deepEqual(result, {
      kind: "spooled",
      path: join(spoolDir, `${SHA_ABC}.mp4`),
      sha256: SHA_ABC,
      size: 3,
      reused: false,
    });
    assert.equal(await Deno.readTextFile(result.path), "abc");
  });
});

Deno.test("`spoolClip()` copies a real clip exactly and never touches the original", async () => {
  await withTempDir(async (dir) => {
    const usb = join(dir, "usb");
    await Deno.mkdir(usb);
    const src = join(usb, "clip one.mp4");
    await Deno.copyFile(CLIP, src);
    await Deno.utime(src, new Date(0), new Date("2024-05-06T07:08:09Z"));
    const original = await Deno.readFile(src);
    const before = await Deno.stat(src);
    const sha = createHash("sha256").update(original).digest("hex");
    const spoolDir = join(dir, "spool");

    const result = await spoolClip(src, {
      spoolDir,
      removable: true,
      freeSpace: PLENTY,
    });
    assert.equal(result.kind, "spooled");
    if (result.kind !== "spooled") return;
    assert.equal(result.path, join(spoolDir, `${sha}.mp4`));
    assert.equal(result.size, original.length);
    assert.deepEqual(await Deno.readFile(result.path), original);
    // The copy keeps the mtime (start-time fallback).
    assert.equal(
      (await Deno.stat(result.path)).mtime?.toISOString(),
      "2024-05-06T07:08:09.000Z",
    );
    // Original untouched.
    const after = await Deno.stat(src);
    assert.deepEqual(await Deno.readFile(src), original);
    assert.equal(after.mtime?.getTime(), before.mtime?.getTime());
    assert.equal(after.ino, before.ino);
    // No temporary file left.
    assert.deepEqual(await listDir(spoolDir), [`${sha}.mp4`]);

    // The same content again: reused, nothing new.
    const again = await spoolClip(src, {
      spoolDir,
      removable: true,
      freeSpace: PLENTY,
    });
    assert.deepEqual(again, { ...result, reused: true });
    assert.deepEqual(await listDir(spoolDir), [`${sha}.mp4`]);
  });
});

Deno.test("`spoolClip()` refuses a clip that would take free space under the minimum", async () => {
  await withTempDir(async (dir) => {
    const src = join(dir, "a.mp4");
    await Deno.writeFile(src, new Uint8Array(MIB));
    const spoolDir = join(dir, "spool");
    // 101 MiB free - 1 MiB clip = 100 MiB left: exactly the minimum is fine.
    const free = () => Promise.resolve(101 * MIB);
    const ok = await spoolClip(src, {
      spoolDir,
      removable: true,
      minFreeBytes: 100 * MIB,
      freeSpace: free,
    });
    assert.equal(ok.kind, "spooled");
    await Deno.writeFile(src, new Uint8Array(MIB + 1));
    const refused = await spoolClip(src, {
      spoolDir,
      removable: true,
      minFreeBytes: 100 * MIB,
      freeSpace: free,
    });
    assert.deepEqual(refused, {
      kind: "refused",
      reason: `Cannot spool clip as free space in ${spoolDir} would fall ` +
        "under the minimum: 101.0 MiB free, clip is 1.0 MiB, minimum is " +
        "100.0 MiB",
      freeBytes: 101 * MIB,
    });
    assert.equal((await listDir(spoolDir)).length, 1);
  });
});

Deno.test("`spoolClip()` throws and leaves no partial file when the clip changes while copied", async () => {
  await withTempDir(async (dir) => {
    const src = join(dir, "growing.mp4");
    await Deno.writeTextFile(src, "first part");
    const spoolDir = join(dir, "spool");
    await assert.rejects(
      spoolClip(src, {
        spoolDir,
        removable: true,
        // Runs after the size is taken and before the copy starts.
        freeSpace: async () => {
          await Deno.writeTextFile(src, " and more", { append: true });
          return 100_000 * MIB;
        },
      }),
      /Cannot spool clip .*growing\.mp4: it changed while it was copied/,
    );
    assert.deepEqual(await listDir(spoolDir), []);
    assert.equal(await Deno.readTextFile(src), "first part and more");
  });
});

Deno.test("`spoolClip()` removes the temporary file when aborted", async () => {
  await withTempDir(async (dir) => {
    const src = join(dir, "a.mp4");
    await Deno.writeTextFile(src, "abc");
    const spoolDir = join(dir, "spool");
    const controller = new AbortController();
    await assert.rejects(
      spoolClip(src, {
        spoolDir,
        removable: true,
        signal: controller.signal,
        freeSpace: () => {
          controller.abort(new Error("shutting down"));
          return PLENTY();
        },
      }),
      /shutting down/,
    );
    assert.deepEqual(await listDir(spoolDir), []);
  });
});

Deno.test("`spoolClip()` rejects a symlink and a missing file naming them", async () => {
  await withTempDir(async (dir) => {
    const link = join(dir, "link.mp4");
    await Deno.symlink(CLIP, link);
    const options = {
      spoolDir: join(dir, "spool"),
      removable: true,
      freeSpace: PLENTY,
    };
    await assert.rejects(
      spoolClip(link, options),
      new Error(`Cannot spool clip ${link}: not a regular file`),
    );
    await assert.rejects(
      spoolClip(join(dir, "gone.mp4"), options),
      /Cannot spool clip .*gone\.mp4: No such file/,
    );
  });
});

Deno.test("`removeSpoolTemps()` removes only leftover temporary files", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, ".spool-1234.tmp"), "partial");
    await Deno.writeTextFile(join(dir, `${SHA_ABC}.mp4`), "abc");
    await Deno.writeTextFile(join(dir, "notes.tmp"), "keep");
    assert.equal(await removeSpoolTemps(dir), 1);
    assert.deepEqual(await listDir(dir), [`${SHA_ABC}.mp4`, "notes.tmp"]);
    assert.equal(await removeSpoolTemps(join(dir, "missing")), 0);
  });
});
