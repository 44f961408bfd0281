/**
 * `run`: the daemon. Watches the inbox folders, processes clips as they
 * arrive, syncs events, and stops cleanly on SIGTERM/SIGINT.
 *
 * @module
 */
import { resolve } from "node:path";
import { runDaemon } from "../daemon/app.ts";
import { assertReady, makeMissingModels } from "../daemon/preflight.ts";
import { log } from "../log/mod.ts";
import { configFromFlags, parseCommandArgs } from "./common.ts";
import { shutdownSignal } from "./signals.ts";

/** Usage text. */
export const USAGE =
  "run [--inbox DIR]…       the daemon: watch inbox folders, process, sync";

/**
 * Runs the command.
 *
 * @param args Arguments after `run`.
 * @returns The exit code.
 */
export async function runRun(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, {
    inbox: { type: "string", multiple: true },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const config = await configFromFlags(values);
  if (values.inbox?.length) {
    config.inbox_dirs = values.inbox.map((d) => resolve(d));
  }
  // A derived default model an update added is made before the check.
  await makeMissingModels(config, {
    info: (m) => log.info(m),
    warn: (m) => log.warn(m),
  });
  // Missing models or ffmpeg: exit 78 (EX_CONFIG), which the unit's
  // RestartPreventExitStatus= stops on, before anything is opened.
  await assertReady(config, { warn: (m) => log.warn(m) });
  return await runDaemon(config, { log, signal: shutdownSignal });
}
