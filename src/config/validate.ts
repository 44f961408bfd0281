/**
 * Validation of the merged configuration through valibot
 * (`npm:valibot`): one schema per key, whose message is the "expected …"
 * text of the one-line error. Values from env vars and flags arrive as
 * strings, so numbers and booleans also accept their string form.
 *
 * The error names the key (`Invalid config 'graph.lease_s': expected a
 * number from 0.05 to 86400, got "x"`) or the unknown key and the allowed
 * ones (`Unknown config key 'workers.ocrr': allowed keys are …`).
 *
 * @module
 */
import * as v from "valibot";
import { TASK_CATEGORIES, type TaskCategory } from "../shared/mod.ts";
import {
  BACKENDS,
  type Config,
  DEFAULTS,
  LOG_LEVELS,
  TLS_MODES,
} from "./schema.ts";
import type { CamerasConfig } from "./cameras.ts";

/** A number (or its string form) within a range. */
function num(min: number, max: number) {
  const msg = `a number from ${min} to ${max}`;
  return v.pipe(
    v.union([v.number(), numberString()], msg),
    v.number(msg),
    v.finite(msg),
    v.minValue(min, msg),
    v.maxValue(max, msg),
  );
}

/** An integer (or its string form) within a range. */
function int(min: number, max: number) {
  const msg = `an integer from ${min} to ${max}`;
  return v.pipe(
    v.union([v.number(), numberString()], msg),
    v.number(msg),
    v.integer(msg),
    v.minValue(min, msg),
    v.maxValue(max, msg),
  );
}

/** A non-blank string turned into a number (env vars and flags are strings). */
function numberString() {
  return v.pipe(
    v.string(),
    v.check((s) => s.trim() !== ""),
    v.transform(Number),
  );
}

/** `true`/`false`, or their string form. */
function bool() {
  const msg = "true or false";
  return v.union([
    v.boolean(),
    v.pipe(v.picklist(["true", "false"]), v.transform((s) => s === "true")),
  ], msg);
}

function text() {
  const msg = "a non-empty string";
  return v.pipe(v.string(msg), v.nonEmpty(msg));
}

/** A string, or null (an empty string counts as null). */
function nullableText() {
  return v.pipe(
    v.nullable(v.string("a string or null")),
    v.transform((s): string | null => (s === "" ? null : s)),
  );
}

/** An integer in [min, max], or null. */
function nullableInt(min: number, max: number) {
  return v.nullable(int(min, max));
}

function oneOf<const T extends readonly string[]>(list: T) {
  return v.picklist(list, `one of ${list.join(", ")}`);
}

function list(what: string) {
  return v.array(v.string(what), what);
}

/** A section: an object with exactly these keys. */
function section<const E extends v.ObjectEntries>(entries: E) {
  return v.strictObject(entries, "an object");
}

const WORKERS = Object.fromEntries(
  TASK_CATEGORIES.map((c) => [c, int(1, 16)]),
) as Record<TaskCategory, ReturnType<typeof int>>;

/** The schema of the configuration (paths are resolved afterwards). */
export const CONFIG_SCHEMA = v.strictObject({
  inbox_dirs: list("a list of folder paths"),
  workers: section(WORKERS),
  worker_groups: v.pipe(
    v.array(
      v.array(oneOf(TASK_CATEGORIES)),
      "a list of lists of stages",
    ),
    v.check(
      (groups) => new Set(groups.flat()).size === groups.flat().length,
      "lists of stages with each stage in one list at most",
    ),
  ),
  inbox: section({
    settle_s: num(0, 3600),
    rescan_s: num(0.1, 86400),
    removable_prefixes: list("a list of path prefixes"),
    min_free_mb: num(0, 1e9),
    delete_originals: bool(),
  }),
  daemon: section({
    shutdown_deadline_s: num(0, 3600),
    max_queued_tasks: int(1, 10_000_000),
    sync_interval_s: num(0.05, 86400),
    retention_days: num(0, 36500),
    health_port: int(0, 65535),
  }),
  inference: section({
    backend: oneOf(BACKENDS),
    threads: int(1, 16),
  }),
  vision: section({
    models: section({
      vehicle_detect: nullableText(),
      plate_detect: nullableText(),
      ocr: nullableText(),
    }),
    min_plate_confidence: num(0, 1),
  }),
  graph: section({
    lease_s: num(0.05, 86400),
    max_attempts: int(1, 100),
    retry_backoff_ms: num(0, 3_600_000),
    task_timeout_s: num(0.1, 86400),
    poll_ms: num(1, 60_000),
    keep_finished: bool(),
    max_frames_on_disk: int(1, 100_000),
  }),
  pg: section({
    url: nullableText(),
    password_file: nullableText(),
    tls: oneOf(TLS_MODES),
    device_id: text(),
    batch_size: int(1, 10_000),
  }),
  gps: section({ exiftool: nullableText() }),
  evidence: section({ sync: bool(), max_kb: int(1, 65_536) }),
  handlers_module: nullableText(),
  data_dir: text(),
  models_dir: text(),
  sampling_fps: num(0.1, 60),
  decode_threads: nullableInt(0, 64),
  log_level: oneOf(LOG_LEVELS),
  skipping: section({ enabled: bool() }),
  // Keyed by camera id: checked entry by entry in cameras.ts.
  cameras: v.custom<CamerasConfig>(() => true),
  segments: section({
    gap_s: num(0, 60),
    edge_s: num(0, 60),
    hold_s: num(0, 86400),
  }),
}, "an object");

type Issue = v.InferIssue<typeof CONFIG_SCHEMA>;

function valueAt(raw: unknown, keys: readonly string[]): unknown {
  let node = raw;
  for (const k of keys) {
    node = (node as Record<string, unknown> | undefined)?.[k];
  }
  return node;
}

/**
 * The one-line error for a schema issue.
 *
 * @param issue The first issue valibot found.
 * @param raw The configuration validated (the value quoted is the one the
 *   user gave, before any conversion).
 * @returns The message.
 */
export function issueLine(issue: Issue, raw: unknown): string {
  const keys: string[] = [];
  for (const item of issue.path ?? []) {
    const key = (item as { key: unknown }).key;
    if (typeof key !== "string") break; // an array element: name the list
    keys.push(key);
  }
  const last = issue.path?.at(-1) as { origin?: string } | undefined;
  if (issue.expected === "never" && last?.origin === "key") {
    const parent = keys.length > 1
      ? valueAt(DEFAULTS, keys.slice(0, -1)) as object
      : DEFAULTS;
    return `Unknown config key '${keys.join(".")}': allowed keys are ${
      Object.keys(parent).join(", ")
    }`;
  }
  return `Invalid config '${keys.join(".")}': expected ${issue.message}, got ${
    JSON.stringify(valueAt(raw, keys))
  }`;
}

/**
 * Checks a merged raw configuration against {@linkcode CONFIG_SCHEMA}.
 *
 * @param raw Defaults merged with file, env and flags.
 * @returns The configuration (paths not resolved yet), or the one-line error
 *   naming the first bad key.
 */
export function checkConfig(
  raw: unknown,
): { ok: true; config: Config } | { ok: false; error: string } {
  const result = v.safeParse(CONFIG_SCHEMA, raw, { abortEarly: true });
  if (!result.success) {
    return { ok: false, error: issueLine(result.issues[0], raw) };
  }
  const config: Config = result.output;
  return { ok: true, config };
}
