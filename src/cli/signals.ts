/**
 * SIGTERM/SIGINT handling, installed before anything heavy loads so a stop
 * request during start-up is not lost (systemd may stop a unit that is
 * still starting). Commands read {@linkcode shutdownSignal}.
 *
 * @module
 */

const controller = new AbortController();
let installed = false;

/** Aborts on the first SIGTERM or SIGINT once {@linkcode installSignalHandlers} ran. */
export const shutdownSignal: AbortSignal = controller.signal;

/** Installs the handlers (once). */
export function installSignalHandlers(): void {
  if (installed) return;
  installed = true;
  const onSignal = () => controller.abort();
  Deno.addSignalListener("SIGTERM", onSignal);
  Deno.addSignalListener("SIGINT", onSignal);
}
