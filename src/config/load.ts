/**
 * Builds the configuration from defaults, a JSON(C) file, environment
 * variables and flags, in rising precedence, and validates it. A bad value
 * stops start-up with one line naming the key and what is allowed.
 *
 * @module
 */
import { resolve } from "node:path";
import { redactSecrets } from "../log/mod.ts";
import { type Config, DEFAULTS } from "./schema.ts";
import { checkConfig } from "./validate.ts";
import { CameraConfigError, validateCameras } from "./cameras.ts";

/**
 * A configuration error a user caused; the message is one line, with any
 * password in the values it quotes hidden ({@linkcode redactSecrets}).
 */
export class ConfigError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(redactSecrets(message));
    this.name = "ConfigError";
  }
}

/** Settings given on the command line; they win over everything. */
export interface ConfigFlags {
  /** `--config`. */
  config?: string;
  /** `--data-dir`. */
  dataDir?: string;
  /** `--models-dir`. */
  modelsDir?: string;
  /** `--pg-url`. */
  pgUrl?: string;
  /** `--log-level`. */
  logLevel?: string;
  /** `--fps`. */
  fps?: string;
  /** `--backend`. */
  backend?: string;
}

/** Options for {@linkcode loadConfig}. */
export interface LoadConfigOptions {
  /** Environment to read. @default {the process's DASHCAM_* variables} */
  env?: Record<string, string | undefined>;
  /** Config file used when neither flag nor env names one; missing is fine. @default {"config/dashcam.json"} */
  defaultFile?: string;
}

/**
 * Removes `//` and `/* *\/` comments and trailing commas from JSONC text,
 * leaving strings untouched.
 *
 * @param text JSONC text.
 * @returns Plain JSON text.
 */
export function stripJsonComments(text: string): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      const start = i;
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
      out += text.slice(start, i + 1);
      i++;
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === "/" && text[i + 1] === "*") {
      i = text.indexOf("*/", i + 2);
      i = i < 0 ? text.length : i + 2;
    } else if (c === "}" || c === "]") {
      // A trailing comma before a closing bracket (outside strings) goes.
      out = out.replace(/,(\s*)$/, "$1") + c;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Deep-merges `over` into `base`; arrays and scalars replace. */
function merge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isObject(v) && isObject(base[k]) ? merge(base[k], v) : v;
  }
  return out;
}

function setPath(target: Json, path: string, value: unknown): void {
  const keys = path.split(".");
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (!isObject(node[key])) node[key] = {};
    node = node[key] as Json;
  }
  node[keys[keys.length - 1]] = value;
}

/**
 * Validates a merged raw configuration into a {@linkcode Config} (through
 * the valibot schema of validate.ts). Relative paths are resolved against
 * `baseDir`.
 *
 * @param raw Defaults merged with file, env and flags.
 * @param baseDir Folder that relative paths are resolved against.
 * @returns The validated configuration.
 * @throws {ConfigError} Naming the first bad key and what is allowed.
 */
export function validateConfig(raw: Json, baseDir: string): Config {
  const checked = checkConfig(raw);
  if (!checked.ok) throw new ConfigError(checked.error);
  const c = checked.config;
  let cameras;
  try {
    cameras = validateCameras(c.cameras);
  } catch (err) {
    if (err instanceof CameraConfigError) throw new ConfigError(err.message);
    throw err;
  }
  return {
    ...c,
    cameras,
    data_dir: resolve(baseDir, c.data_dir),
    models_dir: resolve(baseDir, c.models_dir),
    inbox_dirs: c.inbox_dirs.map((d) => resolve(baseDir, d)),
    handlers_module: c.handlers_module === null
      ? null
      : resolve(baseDir, c.handlers_module),
  };
}

/** The environment variables the configuration reads. */
export const CONFIG_ENV_VARS = [
  "DASHCAM_CONFIG",
  "DASHCAM_DATA_DIR",
  "DASHCAM_MODELS_DIR",
  "DASHCAM_PG_URL",
  "DASHCAM_LOG_LEVEL",
] as const;

/** Reads only our own variables, so `--allow-env` can be narrowed to them. */
function readOwnEnv(): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const name of CONFIG_ENV_VARS) {
    try {
      out[name] = Deno.env.get(name);
    } catch {
      out[name] = undefined; // not permitted: treated as unset
    }
  }
  return out;
}

/**
 * Loads the configuration: flags > env (`DASHCAM_DATA_DIR`,
 * `DASHCAM_MODELS_DIR`, `DASHCAM_PG_URL`, `DASHCAM_CONFIG`,
 * `DASHCAM_LOG_LEVEL`) > file > defaults.
 *
 * @param flags Settings from the command line.
 * @param options Environment and default file.
 * @returns The validated configuration and the file it read, if any.
 * @throws {ConfigError} On an unreadable file, bad JSON or a bad value.
 */
export async function loadConfig(
  flags: ConfigFlags,
  options: LoadConfigOptions = {},
): Promise<{ config: Config; file: string | null }> {
  const env = options.env ?? readOwnEnv();
  const named = flags.config ?? env.DASHCAM_CONFIG;
  const path = named ?? options.defaultFile ?? "config/dashcam.json";
  let raw: Json = structuredClone(DEFAULTS) as unknown as Json;
  let file: string | null = null;
  let text: string | null = null;
  try {
    text = await Deno.readTextFile(path);
    file = resolve(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound) || named !== undefined) {
      throw new ConfigError(
        `Cannot read config file ${path}: ${(err as Error).message}`,
      );
    }
  }
  if (text !== null) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(stripJsonComments(text));
    } catch (err) {
      throw new ConfigError(
        `Cannot parse config file ${path}: ${(err as Error).message}`,
      );
    }
    if (!isObject(parsed)) {
      throw new ConfigError(`Cannot parse config file ${path}: not an object`);
    }
    raw = merge(raw, parsed);
  }
  const overrides: Array<[string, string | undefined]> = [
    ["data_dir", env.DASHCAM_DATA_DIR],
    ["models_dir", env.DASHCAM_MODELS_DIR],
    ["pg.url", env.DASHCAM_PG_URL],
    ["log_level", env.DASHCAM_LOG_LEVEL],
    ["data_dir", flags.dataDir],
    ["models_dir", flags.modelsDir],
    ["pg.url", flags.pgUrl],
    ["log_level", flags.logLevel],
    ["sampling_fps", flags.fps],
    ["inference.backend", flags.backend],
  ];
  for (const [key, value] of overrides) {
    if (value !== undefined) setPath(raw, key, value);
  }
  // Relative paths in a file are relative to the working directory, as a
  // user types them; a systemd unit passes absolute ones.
  return { config: validateConfig(raw, Deno.cwd()), file };
}
