/**
 * A manual clock for tests: `sleep()` waits until the test calls
 * `advance()`, so a test of a retry pause or a timeout moves time on
 * instead of waiting for it.
 *
 * @module
 */
import type { Clock } from "../../src/shared/mod.ts";

interface Timer {
  at: number;
  ms: number;
  resolve: (full: boolean) => void;
}

/** A {@linkcode Clock} that moves only when told. */
export class ManualClock implements Clock {
  #now: number;
  #timers = new Set<Timer>();
  #onSleep: Array<() => void> = [];
  /** Every wait asked for, in ms, in order. */
  readonly sleeps: number[] = [];

  /**
   * Creates the clock.
   *
   * @param start Its time at first (ms since the epoch). @default {Date.now()}
   */
  constructor(start = Date.now()) {
    this.#now = start;
  }

  /** The clock's time. */
  now(): number {
    return this.#now;
  }

  /** Waits until the clock passes `ms` from now, or `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
    this.sleeps.push(ms);
    for (const f of this.#onSleep.splice(0)) f();
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer: Timer = { at: this.#now + ms, ms, resolve };
      this.#timers.add(timer);
      signal?.addEventListener("abort", () => {
        if (this.#timers.delete(timer)) resolve(false);
      }, { once: true });
    });
  }

  /** Waits pending now, in ms each. */
  get pending(): number[] {
    return [...this.#timers].map((t) => t.ms);
  }

  /**
   * Resolves once someone sleeps with at least `n` waits asked for in all.
   *
   * @param n Waits asked for since the clock was made.
   */
  async sleptAtLeast(n: number): Promise<void> {
    while (this.sleeps.length < n) {
      await new Promise<void>((r) => this.#onSleep.push(r));
    }
  }

  /**
   * Moves time on; waits that end by then resolve.
   *
   * @param ms Milliseconds.
   */
  advance(ms: number): void {
    this.#now += ms;
    for (const t of [...this.#timers]) {
      if (t.at <= this.#now) {
        this.#timers.delete(t);
        t.resolve(true);
      }
    }
  }
}
