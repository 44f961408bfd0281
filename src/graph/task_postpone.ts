/**
 * Putting off a task that met a passing fault (the data dir read-only for a
 * while, its frame being written again): the run does not use up an
 * attempt, and the next one waits a doubling delay. Bounded, so a fault that
 * never passes still ends in the ordinary retries and failure.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { cachedStatement, doublingDelay } from "../shared/mod.ts";

/** Options for {@linkcode postponeTask}. */
export interface PostponeTaskOptions {
  /** The task. */
  taskId: number;
  /** Its lease owner (the update is fenced on it). */
  owner: string;
  /** One-line error of the fault. */
  error: string;
  /** Clock, epoch ms. */
  now: number;
  /** First delay in ms, doubled per postponement. */
  backoffMs: number;
  /** Longest delay in ms. @default {60000} */
  maxDelayMs?: number;
  /** Most postponements of one task. @default {30} */
  maxPostponed?: number;
}

/**
 * Releases a task's lease without counting the attempt and delays its next
 * run by `backoffMs * 2^postponed`, at most `maxDelayMs` (`doublingDelay`
 * of shared/async.ts).
 *
 * @param db The database.
 * @param options Task, owner, error, clock and delays.
 * @returns The delay in ms, or null when the task was not put off (lease
 * lost, or postponed `maxPostponed` times already: count the attempt then).
 */
export function postponeTask(
  db: DatabaseSync,
  options: PostponeTaskOptions,
): number | null {
  const { maxDelayMs = 60_000, maxPostponed = 30 } = options;
  const held = cachedStatement(
    db,
    `SELECT postponed FROM tasks
      WHERE id = ? AND lease_owner = ? AND status = 'queued' AND postponed < ?`,
  ).get(options.taskId, options.owner, maxPostponed) as
    | { postponed: number }
    | undefined;
  if (!held) return null;
  const postponed = Number(held.postponed);
  const delay = doublingDelay(postponed + 1, {
    firstMs: options.backoffMs,
    maxMs: maxDelayMs,
  });
  // Fenced on the lease and on the count read above (a worker that lost
  // its lease in between changes nothing).
  const changed = cachedStatement(
    db,
    `UPDATE tasks
        SET last_error = ?, lease_owner = NULL, lease_until = NULL,
            attempts = MAX(attempts - 1, 0), postponed = postponed + 1,
            run_at = ?
      WHERE id = ? AND lease_owner = ? AND status = 'queued' AND postponed = ?`,
  ).run(
    options.error,
    options.now + delay,
    options.taskId,
    options.owner,
    postponed,
  ).changes;
  return Number(changed) > 0 ? delay : null;
}
