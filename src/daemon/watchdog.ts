/**
 * The systemd watchdog keep-alive: `WATCHDOG=1` every `WATCHDOG_USEC / 2`,
 * sent only while the dispatcher goes round, so a wedged engine misses its
 * pings and systemd restarts the service.
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";
import { notify, watchdogIntervalMs } from "./sd_notify.ts";

/**
 * Starts the keep-alive pings when systemd asks for them.
 *
 * @param lastTickAt `performance.now()` of the dispatcher's last round.
 * @param options Logger.
 * @returns Stops the pings (a no-op when systemd asked for none).
 */
export function startWatchdog(
  lastTickAt: () => number,
  options: { log: Logger },
): () => void {
  const keepAliveMs = watchdogIntervalMs();
  if (!keepAliveMs) return () => {};
  const timer = setInterval(() => {
    // Ping only while the dispatcher goes round: a wedged engine misses
    // its pings and systemd restarts the service.
    const sinceTick = performance.now() - lastTickAt();
    if (sinceTick < Math.max(keepAliveMs, 10_000)) notify("WATCHDOG=1");
    else {
      options.log.warn("dispatcher silent; watchdog ping withheld", {
        silent_ms: Math.round(sinceTick),
      });
    }
  }, keepAliveMs);
  return () => clearInterval(timer);
}
