/**
 * The health endpoint of the daemon: `GET /health` (JSON, 503 when the
 * dispatcher is silent) and `GET /metrics` (Prometheus text) on
 * 127.0.0.1:`daemon.health_port`, read fresh from the databases.
 *
 * @module
 */
import { graphStatus } from "../graph/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { Outbox } from "../sink/mod.ts";
import { type HeapTrimmer, mallocStats } from "../shared/mod.ts";
import type { Engine } from "./engine.ts";
import {
  type MetricsSnapshot,
  renderHealth,
  renderMetrics,
} from "./metrics.ts";

/** What the health endpoint reports, read fresh from the databases. */
function snapshot(
  engine: Engine,
  options: { outbox: Outbox; heapTrim?: HeapTrimmer },
): MetricsSnapshot {
  const { outbox, heapTrim } = options;
  const graph = graphStatus(engine.db);
  const box = outbox.stats();
  return {
    dispatcherAgeMs: performance.now() - engine.lastTickAt,
    clips: graph.videos,
    tasks: graph.tasks,
    unhandledResults: graph.unhandledResults,
    framesOnDisk: engine.framesOnDisk,
    outboxPending: box.pending,
    outboxRejected: box.rejected,
    lastSyncAt: box.lastSuccessAt,
    busyMs: engine.pool.busyMs as Record<string, number>,
    finished: { ...engine.pool.counters },
    residentBytes: residentBytes(),
    malloc: mallocStats(),
    jsHeaps: [
      ...(heapTrim ? [{ isolate: "main", ...heapTrim.report() }] : []),
      ...[...engine.pool.heaps].sort(([a], [b]) => a - b).map((
        [index, heap],
      ) => ({ isolate: `worker-${index}`, ...heap })),
    ],
  };
}

function residentBytes(): number | null {
  try {
    return Deno.memoryUsage().rss;
  } catch {
    return null;
  }
}

/**
 * Starts the health server.
 *
 * @param engine The running engine.
 * @param options The outbox, the port (0: no server), a logger and the
 *   main thread's heap trim.
 * @returns The server, or null when the port is 0.
 */
export function startHealthServer(
  engine: Engine,
  options: {
    outbox: Outbox;
    port: number;
    log: Logger;
    heapTrim?: HeapTrimmer;
  },
): Deno.HttpServer | null {
  const { outbox, port, log, heapTrim } = options;
  if (port <= 0) return null;
  return Deno.serve({
    hostname: "127.0.0.1",
    port,
    onListen: ({ port }) =>
      log.info("health endpoint listening", {
        url: `http://127.0.0.1:${port}`,
      }),
  }, (req) => {
    const url = new URL(req.url);
    const snap = snapshot(engine, { outbox, heapTrim });
    if (url.pathname === "/health") {
      const h = renderHealth(snap);
      return new Response(h.body, {
        status: h.status,
        headers: { "content-type": "application/json" },
      });
    }
    if (url.pathname === "/metrics") {
      return new Response(renderMetrics(snap), {
        headers: { "content-type": "text/plain; version=0.0.4" },
      });
    }
    return new Response("not found\n", { status: 404 });
  });
}
