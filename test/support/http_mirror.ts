/**
 * A local HTTP server on 127.0.0.1 standing in for GitHub (or a fleet's
 * mirror of it): URL paths map to files on disk, as upstream URLs with the
 * `https://github.com` prefix replaced by the server's base.
 *
 * @module
 */

/** A running mirror. */
export interface HttpMirror {
  /** Base URL, e.g. `http://127.0.0.1:40123` (no trailing slash). */
  base: string;
  /** Paths requested, in order. */
  requests: string[];
  /** Stops the server. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Serves `routes` (URL path -> file path, or -> bytes) on a free port;
 * anything else is 404.
 *
 * @param routes What to serve.
 * @returns The running mirror; dispose it with `await using`.
 */
export function serveMirror(
  routes: Record<string, string | Uint8Array<ArrayBuffer>>,
): HttpMirror {
  const requests: string[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      const path = decodeURIComponent(new URL(req.url).pathname);
      requests.push(path);
      const route = routes[path];
      if (route === undefined) {
        return new Response("not found", { status: 404 });
      }
      const body = typeof route === "string"
        ? (await Deno.open(route)).readable
        : route;
      return new Response(body);
    },
  );
  return {
    base: `http://127.0.0.1:${server.addr.port}`,
    requests,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

/**
 * The URL path a mirror serves an upstream GitHub URL at.
 *
 * @param url `https://github.com/...`.
 * @returns `/owner/repo/...`.
 */
export function githubPath(url: string): string {
  const prefix = "https://github.com";
  if (!url.startsWith(`${prefix}/`)) {
    throw new TypeError(`not on GitHub: ${url}`);
  }
  return url.slice(prefix.length);
}
