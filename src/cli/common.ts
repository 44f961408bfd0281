/**
 * What every command shares: config flags, loading the config, errors.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { type Config, ConfigError, loadConfig } from "../config/mod.ts";
import { log } from "../log/mod.ts";
import { defaultConfigFile } from "../shared/build_info.ts";

/** Flags every command accepts. */
export const CONFIG_FLAGS = {
  config: { type: "string" },
  "data-dir": { type: "string" },
  "models-dir": { type: "string" },
  "pg-url": { type: "string" },
  "log-level": { type: "string" },
  fps: { type: "string" },
  backend: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

/** A usage error: one line, exit code 2. */
export class UsageError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * Parses a command's arguments with the shared flags plus its own.
 *
 * @param args The arguments after the command name.
 * @param options The command's own flags.
 * @returns Values and positionals.
 * @throws {UsageError} On an unknown flag or a missing value.
 */
export function parseCommandArgs<
  O extends NonNullable<ParseArgsConfig["options"]>,
>(args: string[], options: O) {
  try {
    return parseArgs({
      args,
      options: { ...CONFIG_FLAGS, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message.split("\n")[0]);
  }
}

/**
 * Loads the config from the shared flags and sets the log level.
 *
 * @param values Parsed flag values.
 * @returns The config.
 * @throws {ConfigError} On a bad setting.
 */
export async function configFromFlags(
  values: Record<string, unknown>,
): Promise<Config> {
  const s = (k: string) => values[k] as string | undefined;
  const { config } = await loadConfig({
    config: s("config"),
    dataDir: s("data-dir"),
    modelsDir: s("models-dir"),
    pgUrl: s("pg-url"),
    logLevel: s("log-level"),
    fps: s("fps"),
    backend: s("backend"),
  }, { defaultFile: defaultConfigFile() });
  log.level = config.log_level;
  return config;
}

/** Re-exported so commands catch one class. */
export { ConfigError };
