/**
 * Processes seen from /proc (Linux): whether one is there, its children,
 * and a bounded wait for one to end. For tests of programs that must not
 * outlive their parent.
 *
 * @module
 */

/** Whether a process with this id is still there (not a zombie). */
export async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}

/** The ids of a process's children (empty when it has none or is gone). */
export async function childPids(pid: number): Promise<number[]> {
  try {
    const text = await Deno.readTextFile(`/proc/${pid}/task/${pid}/children`);
    return text.trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
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
