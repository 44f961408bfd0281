/**
 * The command line: one module per command, loaded on demand so `--help`
 * loads nothing heavy. Only this folder calls `Deno.exit` (through main.ts).
 *
 * @module
 */
import { tuneMalloc } from "../shared/mod.ts";
import { ConfigError } from "../config/mod.ts";
import { log, redactSecrets } from "../log/mod.ts";
import { EX_CONFIG, NotReadyError } from "../daemon/preflight.ts";
import { UsageError } from "./common.ts";
import { installSignalHandlers } from "./signals.ts";
import { commandName } from "../shared/build_info.ts";

const COMMANDS: Record<
  string,
  () => Promise<(args: string[]) => Promise<number>>
> = {
  process: async () => (await import("./process.ts")).runProcess,
  demo: async () => (await import("./demo.ts")).runDemo,
  status: async () => (await import("./status.ts")).runStatus,
  read: async () => (await import("./read.ts")).runRead,
  models: async () => (await import("./models.ts")).runModels,
  migrate: async () => (await import("./migrate.ts")).runMigrate,
  sync: async () => (await import("./sync.ts")).runSync,
  vehicles: async () => (await import("./vehicles.ts")).runVehicles,
  run: async () => (await import("./run.ts")).runRun,
};

/**
 * Top-level usage.
 *
 * @param name How the CLI is invoked: `dashcam` (compiled) or `deno task dashcam`.
 * @returns The help text.
 */
export function help(name: string = commandName()): string {
  return `dashcam: edge licence-plate pipeline

Usage: ${name} <command> [options]

Commands:
  run [--inbox DIR]…       the daemon: watch inbox folders, process clips, sync events
  process CLIP… [--json]   run the pipeline on clips and print their final events
  demo [--mirror BASE]     download a small public clip (once) and process it
  status [--json]          tasks, results, frames, clips, failures and outbox
  read FILE… [--json]      read plates from photos (jpg/png) and clips
  models install [--all]   download (or --mirror BASE, or copy --from DIR) and verify the models
  models check [--all]     verify the installed model files
  migrate [--grant-device ROLE]   create/upgrade the fleet Postgres schema (as its owner)
  sync --once [--retry-rejected] [--json]
                           send the outbox backlog to the fleet Postgres and exit
                           (--retry-rejected: offer rows Postgres refused again now)
  vehicles [--plate P] [--fuzzy] [--since T] [--until T] [--limit N] [--remote] [--json]
                           search final events in the outbox (or Postgres with --remote)

Options (every command):
  --config FILE            config file (default config/dashcam.json; env DASHCAM_CONFIG)
  --data-dir DIR           data dir (env DASHCAM_DATA_DIR)
  --models-dir DIR         models dir (env DASHCAM_MODELS_DIR)
  --pg-url URL             fleet Postgres URL (env DASHCAM_PG_URL)
  --log-level LEVEL        error | warn | info | debug
  --fps N                  sampling rate (frames per second)
  --backend NAME           auto | native | wasm | webgpu
  --json                   machine-readable output
`;
}

/**
 * Runs the CLI.
 *
 * @param args Command-line arguments.
 * @returns The exit code.
 */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (
    !command || command === "help" || command === "--help" || command === "-h"
  ) {
    console.log(help());
    return command ? 0 : 2;
  }
  // Long-running commands own SIGTERM/SIGINT from the first moment.
  if (
    command === "run" || command === "process" || command === "read" ||
    command === "demo"
  ) {
    installSignalHandlers();
    // Before any worker or inference thread starts. `read` is short-lived
    // and allocates a buffer per photo: it keeps glibc's mmap threshold.
    tuneMalloc({ mmapThreshold: command === "read" ? null : 128 * 1024 });
  }
  const load = COMMANDS[command];
  if (!load) {
    console.error(
      `dashcam: unknown command '${command}' (try: ${commandName()} help)`,
    );
    return 2;
  }
  try {
    return await (await load())(rest);
  } catch (err) {
    const message = redactSecrets(
      (err as Error).message?.split("\n")[0] ?? String(err),
    );
    if (err instanceof UsageError) {
      console.error(`dashcam ${command}: ${message}`);
      return 2;
    }
    if (err instanceof ConfigError || err instanceof NotReadyError) {
      log.error(message);
      return EX_CONFIG;
    }
    log.error(message);
    if (log.level === "debug") {
      console.error(redactSecrets(String((err as Error).stack ?? err)));
    }
    return 1;
  }
}
