/**
 * Spawning the real CLI (`main.ts`) with the dashcam task's permission flags.
 *
 * @module
 */
import { V8_FLAGS } from "../../scripts/compile.ts";

/**
 * The dashcam task's V8 and permission flags, in deno.json's order (a test
 * keeps them equal to deno.json's).
 */
export const DASHCAM_FLAGS = [
  V8_FLAGS,
  "--no-prompt",
  "--allow-read",
  "--allow-write",
  "--allow-run=ffmpeg,ffprobe,exiftool,perl",
  "--allow-env",
  "--allow-net",
  "--allow-ffi",
  "--allow-sys",
];

/**
 * The environment the dashcam task sets before `deno run` (deno.json's task
 * starts with it; a test keeps them equal). glibc fixes its malloc arena
 * limit when a process makes its 9th arena, and `deno run` makes 15-16
 * while loading the modules, before main.ts can call `mallopt`: only the
 * environment caps the arenas (see src/shared/malloc_tuning.ts).
 */
export const DASHCAM_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: "2",
};

/** Path of main.ts. */
export const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/**
 * A `Deno.Command` running `main.ts` with `args`, the dashcam task's flags
 * and its environment.
 *
 * @param args CLI arguments.
 * @param options Extra environment.
 * @returns The command (not started).
 */
export function dashcamCommand(
  args: string[],
  options: { env?: Record<string, string> } = {},
): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...DASHCAM_FLAGS, MAIN, ...args],
    env: { XDG_RUNTIME_DIR: "/tmp", ...DASHCAM_ENV, ...options.env },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  });
}

/**
 * Runs the CLI to completion.
 *
 * @param args CLI arguments.
 * @param options Extra environment.
 * @returns Exit code, stdout and stderr.
 */
export async function runDashcam(
  args: string[],
  options: { env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await dashcamCommand(args, options).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}
