/**
 * Processes seen from /proc (Linux): whether one is there, its children,
 * and a bounded wait for one to end. For tests of programs that must not
 * outlive their parent.
 *
 * Deno reads `/proc/PID/...` of other processes only under `--allow-all`
 * (`deno task test` grants `--allow-read` and `--allow-run`), so the files
 * are read by `cat`. A file that is not there (the process is gone) reads
 * as null; any other failure throws, so that a check can never pass
 * because /proc could not be read.
 *
 * @module
 */

/**
 * A /proc file's text, or null when it does not exist.
 *
 * @throws {Error} When `cat` fails for another reason.
 */
async function readProc(path: string): Promise<string | null> {
  const out = await new Deno.Command("cat", {
    args: [path],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.success) return new TextDecoder().decode(out.stdout);
  const err = new TextDecoder().decode(out.stderr);
  if (/No such file or directory|No such process/.test(err)) return null;
  throw new Error(`Cannot read ${path}: ${err.trim()}`);
}

/** Whether a process with this id is still there (not a zombie). */
export async function alive(pid: number): Promise<boolean> {
  const stat = await readProc(`/proc/${pid}/stat`);
  return stat !== null && !/^\d+ \(.*\) Z /.test(stat);
}

/** The ids of a process's children (empty when it has none or is gone). */
export async function childPids(pid: number): Promise<number[]> {
  const text = await readProc(`/proc/${pid}/task/${pid}/children`);
  return (text ?? "").trim().split(/\s+/).filter(Boolean).map(Number);
}

/**
 * Waits until the process has ended (a bound, not a timing: processes that
 * are not our children cannot be waited for).
 *
 * @returns Whether it ended within `limitMs`.
 */
export async function untilGone(
  pid: number,
  limitMs = 30_000,
): Promise<boolean> {
  const end = Date.now() + limitMs;
  while (await alive(pid)) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}
