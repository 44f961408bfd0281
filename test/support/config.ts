/**
 * A test configuration on temp dirs.
 *
 * @module
 */
import { type Config, DEFAULTS, validateConfig } from "../../src/config/mod.ts";

/** Handler module of the trivial test stages. */
export const TRIVIAL_HANDLERS = new URL(
  "../testdata/trivial_handlers.ts",
  import.meta.url,
).href;

/**
 * Path of the handler module whose faults (hang once, hang always, fail in
 * plate_smooth, held until released) are chosen by the clip's file name.
 */
export const FAULTY_HANDLERS = new URL(
  "../testdata/faulty_handlers.ts",
  import.meta.url,
).pathname;

/**
 * A validated config rooted at `dataDir`, with overrides.
 *
 * @param dataDir Data dir.
 * @param overrides Sections to change (merged one level deep).
 * @returns The config.
 */
export function testConfig(
  dataDir: string,
  overrides: Record<string, unknown> = {},
): Config {
  const raw: Record<string, unknown> = structuredClone(DEFAULTS);
  raw.data_dir = dataDir;
  raw.graph = { ...DEFAULTS.graph, poll_ms: 20, retry_backoff_ms: 10 };
  for (const [k, v] of Object.entries(overrides)) {
    raw[k] = typeof v === "object" && v !== null && !Array.isArray(v)
      ? { ...(raw[k] as object), ...v }
      : v;
  }
  return validateConfig(raw, Deno.cwd());
}

/**
 * Writes `dir/dashcam.json` for the CLI: data in `dir/data`, the trivial
 * test stages, skipping off, plus `extra` settings.
 *
 * @param dir Folder for the file and the data dir.
 * @param extra Further settings (top-level keys).
 * @returns The config file's path.
 */
export async function writeTrivialConfig(
  dir: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const path = `${dir}/dashcam.json`;
  await Deno.writeTextFile(
    path,
    JSON.stringify({
      data_dir: `${dir}/data`,
      handlers_module: new URL(TRIVIAL_HANDLERS).pathname,
      // The trivial stages make one plate per frame index, so a frame the
      // skipping rules pass over (a still test pattern) would lose a plate
      // these engine tests count; skipping has its own tests.
      skipping: { enabled: false },
      ...extra,
    }),
  );
  return path;
}
