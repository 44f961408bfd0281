import assert from "node:assert/strict";
import { join } from "node:path";
import {
  DownloadError,
  downloadVerified,
  mirrorUrl,
} from "../../src/vision/model_download.ts";
import type { ManifestFile } from "../../src/vision/model_manifest.ts";
import { loadManifest } from "../../src/vision/model_store.ts";
import { startModelMirror, upstreamFiles } from "../support/model_mirror.ts";

const manifest = await loadManifest();
/** The small COCO names file (625 bytes) and the yolox model (3.6 MB). */
const COCO = upstreamFiles(manifest).find((f) =>
  f.file === "coco_classes.txt"
)!;
const YOLOX = upstreamFiles(manifest).find((f) =>
  f.file === "yolox_nano.onnx"
)!;

async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

async function withMirror(
  files: ManifestFile[],
  fn: (
    mirror: Awaited<ReturnType<typeof startModelMirror>>,
    dir: string,
  ) => Promise<void>,
): Promise<void> {
  const mirror = await startModelMirror(files);
  const dir = await Deno.makeTempDir({ prefix: "model_download_test_" });
  try {
    await fn(mirror, dir);
  } finally {
    await mirror.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const noWait = { sleep: () => Promise.resolve() };

Deno.test("`mirrorUrl()` replaces only the https://github.com prefix", () => {
  const url = "https://github.com/o/r/raw/abc/m/x.onnx";
  assert.equal(mirrorUrl(url, undefined), url);
  assert.equal(mirrorUrl(url, "http://h:1"), "http://h:1/o/r/raw/abc/m/x.onnx");
  assert.equal(
    mirrorUrl(url, "http://h:1/base//"),
    "http://h:1/base/o/r/raw/abc/m/x.onnx",
  );
  assert.equal(
    mirrorUrl("https://example.org/x", "http://h:1"),
    "https://example.org/x",
  );
});

Deno.test("`downloadVerified()` fetches a file, reports progress and leaves no .part", async () => {
  await withMirror([YOLOX], async (mirror, dir) => {
    const target = join(dir, YOLOX.file);
    const seen: number[] = [];
    await downloadVerified(mirrorUrl(YOLOX.url!, mirror.base), target, {
      sha256: YOLOX.sha256,
      bytes: YOLOX.bytes,
      onProgress: (p) => seen.push(p.done),
    });
    assert.equal((await Deno.stat(target)).size, YOLOX.bytes);
    assert.equal(seen.at(-1), YOLOX.bytes);
    assert.deepEqual(await listDir(dir), [YOLOX.file]);
    assert.deepEqual(mirror.requests.map((r) => r.range), [null]);
  });
});

Deno.test("`downloadVerified()` keeps the .part of an interrupted download and resumes it with a Range request", async () => {
  await withMirror([YOLOX], async (mirror, dir) => {
    const target = join(dir, YOLOX.file);
    const url = mirrorUrl(YOLOX.url!, mirror.base);
    mirror.cutAfter(YOLOX.file, 1_000_000);
    const options = { sha256: YOLOX.sha256, bytes: YOLOX.bytes, ...noWait };
    await assert.rejects(
      downloadVerified(url, target, { ...options, retries: 0 }),
      (error: Error) => error instanceof DownloadError && error.retryable,
    );
    assert.deepEqual(await listDir(dir), [`${YOLOX.file}.part`]);
    const kept = (await Deno.stat(`${target}.part`)).size;
    assert.ok(kept > 0 && kept < YOLOX.bytes, `kept ${kept}`);

    await downloadVerified(url, target, { ...options, retries: 0 });
    assert.deepEqual(mirror.requests.map((r) => r.range), [
      null,
      `bytes=${kept}-`,
    ]);
    assert.deepEqual(await listDir(dir), [YOLOX.file]);
  });
});

Deno.test("`downloadVerified()` retries a cut connection with doubling backoff and resumes", async () => {
  await withMirror([YOLOX], async (mirror, dir) => {
    mirror.cutAfter(YOLOX.file, 500_000);
    const waits: number[] = [];
    await downloadVerified(
      mirrorUrl(YOLOX.url!, mirror.base),
      join(dir, YOLOX.file),
      {
        sha256: YOLOX.sha256,
        bytes: YOLOX.bytes,
        backoffMs: 100,
        sleep: (ms) => {
          waits.push(ms);
          return Promise.resolve();
        },
      },
    );
    assert.deepEqual(waits, [100]);
    assert.equal(mirror.requests.length, 2);
    assert.match(mirror.requests[1].range ?? "", /^bytes=\d+-$/);
    assert.deepEqual(await listDir(dir), [YOLOX.file]);
  });
});

Deno.test("`downloadVerified()` refuses and deletes a file with the wrong sha256", async () => {
  await withMirror([COCO], async (mirror, dir) => {
    const target = join(dir, COCO.file);
    await assert.rejects(
      downloadVerified(mirrorUrl(COCO.url!, mirror.base), target, {
        sha256: "0".repeat(64),
        bytes: COCO.bytes,
        ...noWait,
      }),
      (error: Error) => {
        assert.match(
          error.message,
          new RegExp(
            `^sha256 ${COCO.sha256}, expected 0{64}; the download was deleted$`,
          ),
        );
        return true;
      },
    );
    assert.deepEqual(await listDir(dir), []);
  });
});

Deno.test("`downloadVerified()` does not retry a 404 and retries a refused connection, then gives up", async () => {
  await withMirror([], async (mirror, dir) => {
    const target = join(dir, COCO.file);
    const waits: number[] = [];
    const sleep = (ms: number) => {
      waits.push(ms);
      return Promise.resolve();
    };
    await assert.rejects(
      downloadVerified(`${mirror.base}/nothing/here`, target, {
        sha256: COCO.sha256,
        bytes: COCO.bytes,
        sleep,
      }),
      { message: "HTTP 404 Not Found" },
    );
    assert.deepEqual(waits, []);
    // A port nothing listens on: the one the mirror had, after it stops.
    const closed = mirror.base;
    await mirror.close();
    await Deno.mkdir(mirror.root); // close() removed it; withMirror removes it again
    await assert.rejects(
      downloadVerified(`${closed}/x`, target, {
        sha256: COCO.sha256,
        bytes: COCO.bytes,
        retries: 2,
        backoffMs: 10,
        sleep,
      }),
      (error: Error) => {
        assert.ok(error instanceof DownloadError && error.retryable);
        assert.doesNotMatch(error.message, /\n/);
        return true;
      },
    );
    assert.deepEqual(waits, [10, 20]);
    assert.deepEqual(await listDir(dir), []);
  });
});
