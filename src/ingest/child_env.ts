/**
 * The environment ffmpeg and ffprobe run with: only an allowlist of the
 * daemon's variables (locale, time zone, temp dir, library path, PATH), never
 * the fleet credentials (`DASHCAM_PG_URL`, `PGPASSWORD`, any other `PG*` or
 * `DASHCAM_*`, `CREDENTIALS_DIRECTORY`). A decoder reads untrusted files; it
 * has no business holding the database password, and a crash dump or
 * `/proc/PID/environ` of it must not reveal one.
 *
 * @module
 */

/**
 * Variables a child decoder may inherit: PATH, HOME and TMPDIR for scratch
 * files, LANG/LC_* and TZ for messages and times, FONTCONFIG_* for drawtext,
 * LIBVA_/VDPAU_ for hardware decoders. No `LD_*`/`DYLD_*`: Deno refuses to
 * spawn with them unless `--allow-run` is unrestricted (the appliance has
 * `--allow-run=ffmpeg,ffprobe`); an ffmpeg build that needs a library path
 * must get it from ld.so.conf.
 */
export const CHILD_ENV_ALLOWLIST: readonly string[] = [
  "PATH",
  "HOME",
  "TMPDIR",
  "LANG",
  "LANGUAGE",
  "LC_ALL",
  "LC_CTYPE",
  "LC_MESSAGES",
  "LC_NUMERIC",
  "TZ",
  "FONTCONFIG_FILE",
  "FONTCONFIG_PATH",
  "LIBVA_DRIVER_NAME",
  "VDPAU_DRIVER",
];

/**
 * The allowlisted variables from `source`, for `Deno.Command` with
 * `clearEnv: true`. A variable the process may not read (narrowed
 * `--allow-env`) is left out.
 *
 * @example Credentials never pass
 * ```ts
 * import assert from "node:assert/strict";
 * const env = childEnv((name) => ({ PATH: "/usr/bin", PGPASSWORD: "pw", DASHCAM_PG_URL: "postgres://u:pw@h/d" })[name]);
 * assert.deepEqual(env, { PATH: "/usr/bin" });
 * ```
 * @param get Reads one variable. @default {Deno.env.get}
 * @returns The child's environment.
 */
export function childEnv(
  get: (name: string) => string | undefined = (name) => Deno.env.get(name),
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of CHILD_ENV_ALLOWLIST) {
    let value: string | undefined;
    try {
      value = get(name);
    } catch {
      value = undefined; // not permitted: not passed on
    }
    if (value !== undefined) env[name] = value;
  }
  return env;
}
