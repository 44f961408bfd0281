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

/** A CONNECT proxy on loopback (what `HTTPS_PROXY` clients speak); counts tunnels. */
function startConnectProxy(): {
  url: string;
  tunnels: string[];
  close: () => void;
} {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const tunnels: string[] = [];
  const conns: Deno.Conn[] = [];
  (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      (async () => {
        const buf = new Uint8Array(4096);
        let head = "";
        while (!head.includes("\r\n\r\n")) {
          const n = await conn.read(buf);
          if (n === null) return;
          head += new TextDecoder().decode(buf.subarray(0, n));
        }
        const target = /^CONNECT (\S+):(\d+) /.exec(head);
        if (!target) return conn.close();
        tunnels.push(`${target[1]}:${target[2]}`);
        const upstream = await Deno.connect({
          hostname: target[1],
          port: Number(target[2]),
        });
        conns.push(upstream);
        await conn.write(
          new TextEncoder().encode(
            "HTTP/1.1 200 Connection established\r\n\r\n",
          ),
        );
        await Promise.allSettled([
          conn.readable.pipeTo(upstream.writable),
          upstream.readable.pipeTo(conn.writable),
        ]);
      })().catch(() => {});
    }
  })().catch(() => {});
  const { port } = listener.addr as Deno.NetAddr;
  return {
    url: `http://127.0.0.1:${port}`,
    tunnels,
    close: () => {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* already closed */ }
      }
    },
  };
}

Deno.test("a download over https goes through HTTPS_PROXY (CONNECT tunnel)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "model_download_proxy_" });
  const key = join(dir, "key.pem");
  const cert = join(dir, "cert.pem");
  const caKey = join(dir, "ca.key");
  const ca = join(dir, "ca.pem");
  const csr = join(dir, "leaf.csr");
  const ext = join(dir, "leaf.ext");
  await Deno.writeTextFile(
    ext,
    "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost\n",
  );
  const steps = [
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=test CA",
      "-keyout",
      caKey,
      "-out",
      ca,
    ],
    [
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      "/CN=localhost",
      "-keyout",
      key,
      "-out",
      csr,
    ],
    [
      "x509",
      "-req",
      "-in",
      csr,
      "-CA",
      ca,
      "-CAkey",
      caKey,
      "-CAcreateserial",
      "-days",
      "1",
      "-extfile",
      ext,
      "-out",
      cert,
    ],
  ];
  for (const args of steps) {
    const made = await new Deno.Command("openssl", { args, stderr: "null" })
      .output();
    assert.equal(made.code, 0, args.join(" "));
  }
  const data = await Deno.readFile(
    join(
      new URL("../../../shared/models/", import.meta.url).pathname,
      COCO.file,
    ),
  );
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: await Deno.readTextFile(cert),
    key: await Deno.readTextFile(key),
    onListen: () => {},
  }, () => new Response(data));
  const proxy = startConnectProxy();
  try {
    const { port } = server.addr as Deno.NetAddr;
    const target = join(dir, COCO.file);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "--allow-net",
        new URL("../testdata/download_one.ts", import.meta.url).pathname,
        `https://localhost:${port}/o/r/raw/c/${COCO.file}`,
        target,
        COCO.sha256,
        String(COCO.bytes),
      ],
      env: {
        HTTPS_PROXY: proxy.url,
        NO_PROXY: "",
        DENO_CERT: ca,
        DENO_NO_UPDATE_CHECK: "1",
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    // The fetch went through a CONNECT tunnel to the server.
    assert.ok(
      proxy.tunnels.includes(`localhost:${port}`),
      String(proxy.tunnels),
    );
    assert.deepEqual(await Deno.readFile(target), data);
  } finally {
    proxy.close();
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
