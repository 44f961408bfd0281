/**
 * Running a small Deno script in a fresh process with chosen permissions
 * (to test behaviour under the daemon's narrow flags).
 *
 * @module
 */

/** Options for {@linkcode runScript}. */
export interface RunScriptOptions {
  /** Permission flags, e.g. `["--allow-read", "--allow-ffi"]`. */
  flags: string[];
  /** Arguments the script sees as `Deno.args`. @default {[]} */
  args?: string[];
  /** Environment; with it the child starts from an empty one. @default {inherited} */
  env?: Record<string, string>;
}

/**
 * Runs `script` (ES module source, fed on stdin) with the repo's import map.
 *
 * @param script The module source.
 * @param options Flags, arguments, environment.
 * @returns Exit success, stdout and stderr.
 */
export async function runScript(
  script: string,
  options: RunScriptOptions,
): Promise<{ success: boolean; stdout: string; stderr: string }> {
  const root = new URL("../../", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      ...options.flags,
      "--config",
      `${root}deno.json`,
      "-",
      ...(options.args ?? []),
    ],
    cwd: root,
    ...(options.env ? { clearEnv: true, env: options.env } : {}),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const out = await child.output();
  const dec = new TextDecoder();
  return {
    success: out.success,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}
