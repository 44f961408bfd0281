/**
 * Small async helpers used across the flow: a sleep that an `AbortSignal`
 * cuts short, a deadline on a promise, doubling back-off with a cap, a
 * retry loop built on them, and the {@linkcode Clock} that lets tests
 * drive time instead of waiting on the wall clock.
 *
 * @module
 */

/** Time as the engine and the worker pool see it (injectable for tests). */
export interface Clock {
  /** Milliseconds since the epoch (like `Date.now()`). */
  now(): number;
  /**
   * Waits `ms`, resolving early (with false) when `signal` aborts.
   *
   * @returns True when the whole time passed.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<boolean>;
}

/** The wall clock: `Date.now()` and timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, { signal }),
};

/**
 * Waits `ms` milliseconds; an abort of `signal` ends the wait early (it
 * resolves, it does not reject), and the timer is cleared either way.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const stop = new AbortController();
 * stop.abort();
 * assert.equal(await sleep(60_000, { signal: stop.signal }), false);
 * assert.equal(await sleep(1), true);
 * ```
 * @param ms Milliseconds (<= 0: the next macrotask).
 * @param options Cancellation.
 * @returns True when the whole time passed, false when aborted.
 */
export function sleep(
  ms: number,
  options: { signal?: AbortSignal } = {},
): Promise<boolean> {
  const { signal } = options;
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, Math.max(0, ms));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** A promise did not settle before its deadline. */
export class DeadlineError extends Error {
  /** The deadline in ms. */
  readonly ms: number;

  /**
   * Creates the error.
   *
   * @param ms The deadline in ms.
   * @param what What was waited for (in the message).
   */
  constructor(ms: number, what = "operation") {
    super(`${what} timed out after ${ms / 1000} s`);
    this.name = "DeadlineError";
    this.ms = ms;
  }
}

/**
 * Waits for `promise` at most `ms`, then rejects with
 * {@linkcode DeadlineError}. The operation itself is left to finish or fail
 * on its own (its outcome is then ignored); the timer is always cleared.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(await deadline(Promise.resolve(7), 1000), 7);
 * await assert.rejects(
 *   deadline(new Promise(() => {}), 1, { what: "query" }),
 *   (e) => e instanceof DeadlineError && e.message === "query timed out after 0.001 s",
 * );
 * ```
 * @param promise What to wait for.
 * @param ms Milliseconds.
 * @param options What is waited for (named in the error).
 * @returns The promise's value.
 * @throws {DeadlineError} When `ms` pass first.
 */
export async function deadline<T>(
  promise: PromiseLike<T>,
  ms: number,
  options: { what?: string } = {},
): Promise<T> {
  const running = Promise.resolve(promise);
  running.catch(() => {}); // once abandoned, nobody waits for its outcome
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(ms, options.what)), ms);
  });
  try {
    return await Promise.race([running, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Bounds of a doubling back-off. */
export interface BackoffOptions {
  /** The first delay in ms. */
  firstMs: number;
  /** The longest delay in ms (the cap). */
  maxMs: number;
}

/**
 * The delay before try `n + 1` after `n` failures: `firstMs * 2^(n-1)`, at
 * most `maxMs` (safe for any `n`: the exponent is bounded).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const b = { firstMs: 100, maxMs: 1000 };
 * assert.deepEqual([1, 2, 3, 4, 5, 1e9].map((n) => doublingDelay(n, b)), [100, 200, 400, 800, 1000, 1000]);
 * ```
 * @param failures Failures so far, >= 1 (below 1 counts as 1).
 * @param options The first delay and the cap.
 * @returns Milliseconds to wait.
 */
export function doublingDelay(
  failures: number,
  options: BackoffOptions,
): number {
  const n = Math.min(Math.max(1, Math.floor(failures)), 64);
  return Math.min(options.maxMs, options.firstMs * 2 ** (n - 1));
}

/**
 * A doubling back-off that remembers its failures: `next()` gives the
 * delay after one more failure, `reset()` starts again after a success.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const b = new Backoff({ firstMs: 1000, maxMs: 3000 });
 * assert.deepEqual([b.next(), b.next(), b.next()], [1000, 2000, 3000]);
 * b.reset();
 * assert.equal(b.next(), 1000);
 * ```
 */
export class Backoff {
  #options: BackoffOptions;
  #failures = 0;

  /**
   * Creates the back-off.
   *
   * @param options The first delay and the cap.
   */
  constructor(options: BackoffOptions) {
    this.#options = options;
  }

  /** Failures since the last reset. */
  get failures(): number {
    return this.#failures;
  }

  /**
   * Counts one more failure.
   *
   * @returns The delay to wait now, in ms.
   */
  next(): number {
    this.#failures++;
    return doublingDelay(this.#failures, this.#options);
  }

  /** Starts again from the first delay. */
  reset(): void {
    this.#failures = 0;
  }
}

/** Options for {@linkcode retry}. */
export interface RetryOptions extends BackoffOptions {
  /** Most tries in all (>= 1). */
  attempts: number;
  /** Whether an error is worth another try. @default {every error} */
  isRetryable?: (err: unknown) => boolean;
  /** Called before each wait (for a log line). */
  onRetry?: (
    info: { error: unknown; attempt: number; delayMs: number },
  ) => void;
  /** Stops the waits; the last error is thrown then. */
  signal?: AbortSignal;
  /** Waits (a test passes a fake one). @default {the wall clock} */
  clock?: Clock;
}

/**
 * Runs `fn` until it succeeds, an error is not retryable, or `attempts`
 * tries are used, waiting a doubling delay between tries.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * let calls = 0;
 * const value = await retry(() => {
 *   if (++calls < 3) throw new Error("flaky");
 *   return "ok";
 * }, { attempts: 5, firstMs: 1, maxMs: 4 });
 * assert.deepEqual([value, calls], ["ok", 3]);
 * ```
 * @param fn The operation; gets the 1-based try number.
 * @param options Tries, delays, and which errors to retry.
 * @returns The value of the first successful try.
 * @throws The last error when no try succeeded.
 */
export async function retry<T>(
  fn: (attempt: number) => T | Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const clock = options.clock ?? systemClock;
  for (let attempt = 1;; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const more = attempt < options.attempts &&
        (options.isRetryable?.(err) ?? true) && !options.signal?.aborted;
      if (!more) throw err;
      const delayMs = doublingDelay(attempt, options);
      options.onRetry?.({ error: err, attempt, delayMs });
      await clock.sleep(delayMs, options.signal);
      if (options.signal?.aborted) throw err;
    }
  }
}
