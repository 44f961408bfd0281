/**
 * The daemon's fleet sync: the sync loop from the outbox to fleet Postgres
 * (when `pg.url` is set), retention of synced events after a good pass (at
 * most hourly), and one last sync at stop, bounded to 5 s.
 *
 * @module
 */
import type { Config } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import {
  checkFleet,
  closePg,
  connectFleet,
  type Outbox,
  syncClips,
  syncEvidence,
  SyncLoop,
  syncOnce,
} from "../sink/mod.ts";
import { deadline } from "../shared/mod.ts";
import { pruneSynced } from "./retention.ts";

/** The fleet connection and its sync loop. */
export interface FleetSync {
  /** Whether `pg.url` is set (false: events stay in the local outbox). */
  readonly enabled: boolean;
  /** Starts the sync loop. */
  start(): void;
  /** Asks for a pass now (a new event). */
  kick(): void;
  /** Stops the loop (a pass under way ends first). */
  stop(): Promise<void>;
  /** One last sync (bounded to 5 s; skipped with one line when it fails), then the connection closes. */
  finish(options: { lastSync: boolean }): Promise<void>;
}

/**
 * Connects to fleet Postgres (lazily: no connection until the first pass).
 *
 * @param outbox The local outbox.
 * @param options Configuration and logger.
 * @returns The fleet sync (disabled when `pg.url` is not set).
 */
export function fleetSync(
  outbox: Outbox,
  options: { config: Config; log: Logger },
): FleetSync {
  const { config, log } = options;
  const sql = config.pg.url ? connectFleet(config.pg, { log }) : null;
  let loop: SyncLoop | null = null;
  return {
    enabled: sql !== null,
    start() {
      if (!sql) {
        log.info("pg.url not set: events stay in the local outbox");
        return;
      }
      let lastPrune = 0;
      loop = new SyncLoop(outbox, sql, {
        deviceId: config.pg.device_id,
        batchSize: config.pg.batch_size,
        intervalMs: config.daemon.sync_interval_s * 1000,
        log,
        onPass: (outcome) => {
          // Retention: at most hourly, after a good pass.
          if (!outcome.ok || config.daemon.retention_days <= 0) return;
          if (Date.now() - lastPrune < 3_600_000) return;
          lastPrune = Date.now();
          pruneSynced(outbox, {
            dataDir: config.data_dir,
            days: config.daemon.retention_days,
            log,
          });
        },
        prepare: async () => {
          await checkFleet(sql, { pg: config.pg });
        },
        // Pictures follow their events, then clips and tracks (issue 13;
        // evidence.sync: false keeps the pictures here).
        afterPass: async () => {
          await syncEvidence(outbox, sql, {
            dataDir: config.data_dir,
            deviceId: config.pg.device_id,
            keepLocal: !config.evidence.sync,
            maxBytes: config.evidence.max_kb * 1024,
            log,
          });
          await syncClips(outbox, sql, { deviceId: config.pg.device_id });
        },
      });
      loop.start();
    },
    kick() {
      loop?.kick();
    },
    async stop() {
      await loop?.stop();
    },
    async finish({ lastSync }) {
      if (!sql) return;
      if (lastSync && loop) {
        try {
          const last = await deadline(
            syncOnce(outbox, sql, {
              deviceId: config.pg.device_id,
              batchSize: config.pg.batch_size,
              log,
              pullAlerts: false,
            }),
            5000,
            { what: "last sync" },
          );
          if (last.sent > 0) {
            log.info("last sync before stop", { sent: last.sent });
          }
        } catch (err) {
          log.info("last sync skipped; events stay in the outbox", {
            error: (err as Error).message.split("\n")[0],
          });
        }
      }
      await closePg(sql, 2000);
    },
  };
}
