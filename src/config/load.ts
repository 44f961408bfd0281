/**
 * Builds the configuration from defaults, a JSON(C) file, environment
 * variables and flags, in rising precedence, and validates it. A bad value
 * stops start-up with one line naming the key and what is allowed.
 *
 * @module
 */
import { resolve } from "node:path";
import { redactSecrets } from "../log/mod.ts";
import {
  BACKENDS,
  type Config,
  DEFAULTS,
  LOG_LEVELS,
  TASK_CATEGORIES,
  TLS_MODES,
} from "./schema.ts";

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

function fail(key: string, allowed: string, value: unknown): never {
  throw new ConfigError(
    `Invalid config '${key}': expected ${allowed}, got ${
      JSON.stringify(value)
    }`,
  );
}

function checkKeys(obj: Json, allowed: object, prefix: string): void {
  for (const key of Object.keys(obj)) {
    if (!Object.hasOwn(allowed, key)) {
      throw new ConfigError(
        `Unknown config key '${prefix}${key}': allowed keys are ${
          Object.keys(allowed).join(", ")
        }`,
      );
    }
  }
}

function str(obj: Json, key: string, path: string): string {
  const v = obj[key];
  if (typeof v !== "string" || v === "") fail(path, "a non-empty string", v);
  return v;
}

function num(
  obj: Json,
  key: string,
  path: string,
  range: { min: number; max: number; integer?: boolean },
): number {
  let v = obj[key];
  if (typeof v === "string" && v.trim() !== "") v = Number(v);
  const ok = typeof v === "number" && Number.isFinite(v) &&
    v >= range.min && v <= range.max &&
    (!range.integer || Number.isInteger(v));
  if (!ok) {
    fail(
      path,
      `${
        range.integer ? "an integer" : "a number"
      } from ${range.min} to ${range.max}`,
      obj[key],
    );
  }
  return v as number;
}

function oneOf<T extends string>(
  obj: Json,
  key: string,
  path: string,
  allowed: readonly T[],
): T {
  const v = obj[key];
  if (typeof v !== "string" || !allowed.includes(v as T)) {
    fail(path, `one of ${allowed.join(", ")}`, v);
  }
  return v as T;
}

function bool(obj: Json, key: string, path: string): boolean {
  const v = obj[key];
  if (v === true || v === "true") return true;
  if (v === false || v === "false") return false;
  fail(path, "true or false", v);
}

function nullableStr(obj: Json, key: string, path: string): string | null {
  const v = obj[key];
  if (v === null || v === undefined || v === "") return null;
  if (typeof v !== "string") fail(path, "a string or null", v);
  return v;
}

function section(obj: Json, key: string): Json {
  const v = obj[key];
  if (!isObject(v)) fail(key, "an object", v);
  checkKeys(v, (DEFAULTS as Json)[key] as object, `${key}.`);
  return v;
}

/** The `vision` section: model files per task, the plate threshold. */
function visionSection(raw: Json): Config["vision"] {
  const v = section(raw, "vision");
  const models = v.models;
  if (!isObject(models)) fail("vision.models", "an object", models);
  checkKeys(models, DEFAULTS.vision.models, "vision.models.");
  return {
    models: {
      vehicle_detect: nullableStr(
        models,
        "vehicle_detect",
        "vision.models.vehicle_detect",
      ),
      plate_detect: nullableStr(
        models,
        "plate_detect",
        "vision.models.plate_detect",
      ),
      ocr: nullableStr(models, "ocr", "vision.models.ocr"),
    },
    min_plate_confidence: num(
      v,
      "min_plate_confidence",
      "vision.min_plate_confidence",
      { min: 0, max: 1 },
    ),
  };
}

/**
 * Validates a merged raw configuration into a {@linkcode Config}. Relative
 * paths are resolved against `baseDir`.
 *
 * @param raw Defaults merged with file, env and flags.
 * @param baseDir Folder that relative paths are resolved against.
 * @returns The validated configuration.
 * @throws {ConfigError} Naming the first bad key and what is allowed.
 */
export function validateConfig(raw: Json, baseDir: string): Config {
  checkKeys(raw, DEFAULTS, "");
  const inbox = raw.inbox_dirs;
  if (!Array.isArray(inbox) || inbox.some((d) => typeof d !== "string")) {
    fail("inbox_dirs", "a list of folder paths", inbox);
  }
  const workersRaw = section(raw, "workers");
  const workers = {} as Config["workers"];
  for (const c of TASK_CATEGORIES) {
    workers[c] = num(workersRaw, c, `workers.${c}`, {
      min: 1,
      max: 16,
      integer: true,
    });
  }
  const inboxRaw = section(raw, "inbox");
  const prefixes = inboxRaw.removable_prefixes;
  if (!Array.isArray(prefixes) || prefixes.some((d) => typeof d !== "string")) {
    fail("inbox.removable_prefixes", "a list of path prefixes", prefixes);
  }
  const daemonRaw = section(raw, "daemon");
  const inf = section(raw, "inference");
  const graph = section(raw, "graph");
  const vision = visionSection(raw);
  const pg = section(raw, "pg");
  const handlers = nullableStr(raw, "handlers_module", "handlers_module");
  return {
    data_dir: resolve(baseDir, str(raw, "data_dir", "data_dir")),
    models_dir: resolve(baseDir, str(raw, "models_dir", "models_dir")),
    inbox_dirs: (inbox as string[]).map((d) => resolve(baseDir, d)),
    inbox: {
      settle_s: num(inboxRaw, "settle_s", "inbox.settle_s", {
        min: 0,
        max: 3600,
      }),
      rescan_s: num(inboxRaw, "rescan_s", "inbox.rescan_s", {
        min: 0.1,
        max: 86400,
      }),
      removable_prefixes: prefixes as string[],
      min_free_mb: num(inboxRaw, "min_free_mb", "inbox.min_free_mb", {
        min: 0,
        max: 1e9,
      }),
      delete_originals: bool(
        inboxRaw,
        "delete_originals",
        "inbox.delete_originals",
      ),
    },
    daemon: {
      shutdown_deadline_s: num(
        daemonRaw,
        "shutdown_deadline_s",
        "daemon.shutdown_deadline_s",
        {
          min: 0,
          max: 3600,
        },
      ),
      max_queued_tasks: num(
        daemonRaw,
        "max_queued_tasks",
        "daemon.max_queued_tasks",
        {
          min: 1,
          max: 10_000_000,
          integer: true,
        },
      ),
      sync_interval_s: num(
        daemonRaw,
        "sync_interval_s",
        "daemon.sync_interval_s",
        {
          min: 0.05,
          max: 86400,
        },
      ),
      retention_days: num(
        daemonRaw,
        "retention_days",
        "daemon.retention_days",
        {
          min: 0,
          max: 36500,
        },
      ),
      health_port: num(daemonRaw, "health_port", "daemon.health_port", {
        min: 0,
        max: 65535,
        integer: true,
      }),
    },
    sampling_fps: num(raw, "sampling_fps", "sampling_fps", {
      min: 0.1,
      max: 60,
    }),
    log_level: oneOf(raw, "log_level", "log_level", LOG_LEVELS),
    workers,
    inference: {
      backend: oneOf(inf, "backend", "inference.backend", BACKENDS),
      threads: num(inf, "threads", "inference.threads", {
        min: 1,
        max: 16,
        integer: true,
      }),
    },
    vision,
    graph: {
      lease_s: num(graph, "lease_s", "graph.lease_s", {
        min: 0.05,
        max: 86400,
      }),
      max_attempts: num(graph, "max_attempts", "graph.max_attempts", {
        min: 1,
        max: 100,
        integer: true,
      }),
      retry_backoff_ms: num(
        graph,
        "retry_backoff_ms",
        "graph.retry_backoff_ms",
        {
          min: 0,
          max: 3_600_000,
        },
      ),
      task_timeout_s: num(graph, "task_timeout_s", "graph.task_timeout_s", {
        min: 0.1,
        max: 86400,
      }),
      poll_ms: num(graph, "poll_ms", "graph.poll_ms", { min: 1, max: 60_000 }),
      keep_finished: bool(graph, "keep_finished", "graph.keep_finished"),
      max_frames_on_disk: num(
        graph,
        "max_frames_on_disk",
        "graph.max_frames_on_disk",
        { min: 1, max: 100_000, integer: true },
      ),
    },
    pg: {
      url: nullableStr(pg, "url", "pg.url"),
      password_file: nullableStr(pg, "password_file", "pg.password_file"),
      tls: oneOf(pg, "tls", "pg.tls", TLS_MODES),
      device_id: str(pg, "device_id", "pg.device_id"),
      batch_size: num(pg, "batch_size", "pg.batch_size", {
        min: 1,
        max: 10_000,
        integer: true,
      }),
    },
    handlers_module: handlers === null ? null : resolve(baseDir, handlers),
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
