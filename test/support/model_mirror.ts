/**
 * A loopback HTTP mirror of the models' upstream URLs: a temp folder laid out
 * as the URL paths with the `https://github.com` prefix removed, holding only
 * upstream files (links to `../shared/models`), served by `Deno.serve` on
 * 127.0.0.1 with `Range` support. It records every request and can cut a
 * file's connection mid-body.
 *
 * @module
 */
import { dirname, join } from "node:path";
import type {
  Manifest,
  ManifestFile,
} from "../../src/vision/model_manifest.ts";
import { UPSTREAM_PREFIX } from "../../src/vision/model_download.ts";
import { SHARED_MODELS } from "./shared.ts";

/** One request the mirror got. */
export interface MirrorRequest {
  /** URL path. */
  path: string;
  /** The `Range` header, if any. */
  range: string | null;
  /** Whether it came through the test proxy (see {@linkcode startProxy}). */
  proxied: boolean;
}

/** A running mirror. */
export interface ModelMirror {
  /** Base URL to give `--mirror`. */
  base: string;
  /** Folder served. */
  root: string;
  /** Requests so far. */
  requests: MirrorRequest[];
  /**
   * The next full (non-Range) request for a path ending in `file` sends
   * `bytes` bytes, then the connection is cut; with `hang`, it stalls there
   * instead (until the client goes away or the mirror closes).
   */
  cutAfter(file: string, bytes: number, options?: { hang?: boolean }): void;
  /** Stops the server and removes the folder. */
  close(): Promise<void>;
}

/**
 * The upstream files (with a `url`) of a manifest, with no derived model.
 *
 * @param manifest The manifest.
 * @returns Each upstream file once.
 */
export function upstreamFiles(manifest: Manifest): ManifestFile[] {
  const files = manifest.models.flatMap((m) => [m, ...m.extraFiles])
    .filter((f) => f.url !== undefined);
  return files.filter((f, i) =>
    files.findIndex((g) => g.file === f.file) === i
  );
}

/**
 * Lays out `files` (from `../shared/models`) as their URL paths and serves them.
 *
 * @param files Upstream files to serve.
 * @returns The mirror.
 */
export async function startModelMirror(
  files: ManifestFile[],
): Promise<ModelMirror> {
  const root = await Deno.makeTempDir({ prefix: "model_mirror_" });
  for (const file of files) {
    const path = join(root, file.url!.slice(UPSTREAM_PREFIX.length));
    await Deno.mkdir(dirname(path), { recursive: true });
    await Deno.symlink(join(SHARED_MODELS, file.file), path);
  }
  const requests: MirrorRequest[] = [];
  const cuts = new Map<string, { bytes: number; hang: boolean }>();
  const stalls: Array<() => void> = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      const path = decodeURIComponent(new URL(req.url).pathname);
      const range = req.headers.get("range");
      requests.push({
        path,
        range,
        proxied: req.headers.get("x-test-proxy") === "1",
      });
      let data: Uint8Array<ArrayBuffer>;
      try {
        data = await Deno.readFile(join(root, path));
      } catch {
        return new Response("not found", { status: 404 });
      }
      const cut = [...cuts].find(([name]) => path.endsWith(`/${name}`));
      if (cut && range === null) {
        cuts.delete(cut[0]);
        const head = data.slice(0, cut[1].bytes);
        const hang = cut[1].hang;
        let sent = false;
        const body = new ReadableStream<Uint8Array>({
          async pull(controller) {
            if (sent && hang) {
              await new Promise<void>((resolve) => stalls.push(resolve));
              controller.error(new Error("stalled by test"));
            } else if (sent) controller.error(new Error("cut by test"));
            else {
              sent = true;
              controller.enqueue(head);
            }
          },
        });
        return new Response(body, {
          headers: { "content-length": String(data.length) },
        });
      }
      const match = range ? /^bytes=(\d+)-$/.exec(range) : null;
      if (match) {
        const start = Number(match[1]);
        if (start >= data.length) {
          return new Response(null, {
            status: 416,
            headers: { "content-range": `bytes */${data.length}` },
          });
        }
        return new Response(data.slice(start), {
          status: 206,
          headers: {
            "content-range": `bytes ${start}-${data.length - 1}/${data.length}`,
          },
        });
      }
      return new Response(data);
    },
  );
  const { port } = server.addr as Deno.NetAddr;
  return {
    base: `http://127.0.0.1:${port}`,
    root,
    requests,
    cutAfter: (file, bytes, options = {}) =>
      cuts.set(file, { bytes, hang: options.hang ?? false }),
    async close() {
      stalls.forEach((resolve) => resolve());
      await server.shutdown();
      await Deno.remove(root, { recursive: true });
    },
  };
}

/**
 * A forward HTTP proxy on loopback (absolute-form requests, as `HTTP_PROXY`
 * clients send them): it marks each request with `x-test-proxy: 1` and
 * forwards it.
 *
 * @returns Its URL, how many requests it forwarded, and a stop function.
 */
export function startProxy(): {
  url: string;
  forwarded: () => number;
  close: () => Promise<void>;
} {
  let count = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      count++;
      const headers = new Headers(req.headers);
      headers.set("x-test-proxy", "1");
      const res = await fetch(req.url, { headers });
      return new Response(res.body, {
        status: res.status,
        headers: res.headers,
      });
    },
  );
  const { port } = server.addr as Deno.NetAddr;
  return {
    url: `http://127.0.0.1:${port}`,
    forwarded: () => count,
    close: () => server.shutdown(),
  };
}
