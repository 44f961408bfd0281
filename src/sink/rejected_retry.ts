/**
 * When a row Postgres refused is offered again. A refusal is often transient
 * (a constraint or policy added for a while, a trigger bug fixed the next
 * day), so set-aside rows are retried on their own with a long, doubling
 * delay, and given up after a bound until an operator forces a retry
 * (`sync --once --retry-rejected`). Pure: tested alone.
 *
 * @module
 */
import { doublingDelay } from "../shared/mod.ts";

/** First delay after a refusal: 10 minutes. */
export const REJECTED_RETRY_FIRST_MS = 10 * 60_000;

/** Longest delay between automatic retries: 24 hours. */
export const REJECTED_RETRY_MAX_MS = 24 * 3_600_000;

/**
 * Refusals after which a row is no longer retried automatically (10: the
 * delays 10 min, 20 min, 40 min, ... 24 h add up to about 3.5 days).
 */
export const REJECTED_RETRY_MAX_REFUSALS = 10;

/**
 * Milliseconds until a row refused `refusals` times (1-based, this refusal
 * included) is offered again: 10 min * 2^(refusals-1), at most 24 h; null
 * once `refusals` reaches {@linkcode REJECTED_RETRY_MAX_REFUSALS} (kept aside
 * until a forced retry).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(rejectedRetryDelayMs(1), 600_000);
 * assert.equal(rejectedRetryDelayMs(3), 2_400_000);
 * assert.equal(rejectedRetryDelayMs(9), 86_400_000);
 * assert.equal(rejectedRetryDelayMs(10), null);
 * ```
 * @param refusals How many times Postgres refused the row, >= 1.
 * @returns The delay, or null for no more automatic retries.
 * @throws {RangeError} When `refusals` is not an integer >= 1.
 */
export function rejectedRetryDelayMs(refusals: number): number | null {
  if (!Number.isInteger(refusals) || refusals < 1) {
    throw new RangeError(
      `Cannot compute the retry delay as 'refusals' must be an integer >= 1: current value is ${refusals}`,
    );
  }
  if (refusals >= REJECTED_RETRY_MAX_REFUSALS) return null;
  return doublingDelay(refusals, {
    firstMs: REJECTED_RETRY_FIRST_MS,
    maxMs: REJECTED_RETRY_MAX_MS,
  });
}
