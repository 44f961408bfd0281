/**
 * The demo clip download: pinned sha256, mirror prefix, cache, and nothing
 * half-written left behind on a bad download. Served from 127.0.0.1 only.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  DEMO_CLIP,
  fetchPinned,
  mirrorUrl,
  type PinnedFile,
} from "../../src/ingest/demo_clip.ts";
import { githubPath, serveMirror } from "../support/http_mirror.ts";
import { SHARED_MEDIA } from "../support/shared.ts";

const CLIP = join(SHARED_MEDIA, "clips/uk_roundabout_approach.mp4");

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "demo_clip_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("mirrorUrl replaces the https://github.com prefix only", () => {
  const url = "https://github.com/o/r/raw/abc/f.mp4";
  assert.equal(mirrorUrl(url), url);
  assert.equal(mirrorUrl(url, ""), url);
  assert.equal(
    mirrorUrl(url, "http://127.0.0.1:8080/gh/"),
    "http://127.0.0.1:8080/gh/o/r/raw/abc/f.mp4",
  );
  assert.throws(
    () => mirrorUrl("https://example.org/f.mp4", "http://m"),
    /not on https:\/\/github\.com/,
  );
});

Deno.test("the demo clip's pin matches the developer copy of the same file", async () => {
  const bytes = await Deno.readFile(CLIP);
  assert.equal(bytes.length, DEMO_CLIP.bytes);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  assert.equal(
    Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""),
    DEMO_CLIP.sha256,
  );
  assert.match(
    DEMO_CLIP.url,
    /^https:\/\/github\.com\/[^/]+\/[^/]+\/raw\/[0-9a-f]{40}\//,
  );
  assert.match(DEMO_CLIP.licence, /MIT/);
});

Deno.test("fetchPinned downloads through the mirror once, then uses the cache", async () => {
  await withTempDir(async (dir) => {
    const cacheDir = join(dir, "cache");
    let path: string;
    {
      await using mirror = serveMirror({ [githubPath(DEMO_CLIP.url)]: CLIP });
      path = await fetchPinned(DEMO_CLIP, { cacheDir, mirror: mirror.base });
      assert.deepEqual(mirror.requests, [githubPath(DEMO_CLIP.url)]);
    }
    assert.equal((await Deno.stat(path)).size, DEMO_CLIP.bytes);
    // The server is gone: the cached copy is verified and used.
    const again = await fetchPinned(DEMO_CLIP, {
      cacheDir,
      mirror: "http://127.0.0.1:9",
    });
    assert.equal(again, path);
    assert.deepEqual(
      [...Deno.readDirSync(cacheDir)].map((e) => e.name),
      [DEMO_CLIP.file],
    );
  });
});

Deno.test("fetchPinned refuses wrong bytes and a 404 with one line naming the URL, leaving nothing behind", async () => {
  await withTempDir(async (dir) => {
    const cacheDir = join(dir, "cache");
    const pin: PinnedFile = { ...DEMO_CLIP, file: "x.mp4" };
    await using mirror = serveMirror({
      [githubPath(pin.url)]: new TextEncoder().encode("not the clip"),
    });
    const url = mirrorUrl(pin.url, mirror.base);
    await assert.rejects(
      fetchPinned(pin, { cacheDir, mirror: mirror.base }),
      (err: Error) => {
        assert.ok(err.message.startsWith(`Cannot use ${url}: got 12 bytes`));
        assert.ok(!err.message.includes("\n"));
        return true;
      },
    );
    assert.deepEqual([...Deno.readDirSync(cacheDir)], []);
    await assert.rejects(
      fetchPinned({ ...pin, url: "https://github.com/o/r/raw/0/none.mp4" }, {
        cacheDir,
        mirror: mirror.base,
      }),
      new RegExp(
        `^Error: Cannot download ${mirror.base}/o/r/raw/0/none\\.mp4: HTTP 404`,
      ),
    );
    assert.deepEqual([...Deno.readDirSync(cacheDir)], []);
  });
});
