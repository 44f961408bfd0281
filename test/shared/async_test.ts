import assert from "node:assert/strict";
import {
  Backoff,
  type Clock,
  deadline,
  DeadlineError,
  doublingDelay,
  retry,
  sleep,
} from "../../src/shared/async.ts";

/** A clock that records waits and returns at once. */
function recordingClock(): Clock & { waits: number[] } {
  const waits: number[] = [];
  return {
    waits,
    now: () => 0,
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve(true);
    },
  };
}

Deno.test("`sleep()` ends early on abort (false) and clears its timer either way", async () => {
  const stop = new AbortController();
  const waiting = sleep(3_600_000, { signal: stop.signal });
  stop.abort();
  assert.equal(await waiting, false); // an hour-long timer left would fail the leak check
  assert.equal(await sleep(0, { signal: new AbortController().signal }), true);
});

Deno.test("`deadline()` passes values and errors through, and rejects with DeadlineError past the deadline", async () => {
  assert.equal(await deadline(Promise.resolve("v"), 1000), "v");
  await assert.rejects(deadline(Promise.reject(new Error("own")), 1000), {
    message: "own",
  });
  const never = new Promise<never>(() => {});
  await assert.rejects(
    deadline(never, 5, { what: "last sync" }),
    (e) =>
      e instanceof DeadlineError && e.ms === 5 &&
      e.message === "last sync timed out after 0.005 s",
  );
});

Deno.test("`doublingDelay()` doubles from the first delay to the cap, for any failure count", () => {
  const b = { firstMs: 1000, maxMs: 60_000 };
  assert.deepEqual(
    [0, 1, 2, 3, 6, 7, 100, 1e12].map((n) => doublingDelay(n, b)),
    [1000, 1000, 2000, 4000, 32_000, 60_000, 60_000, 60_000],
  );
  assert.equal(doublingDelay(5, { firstMs: 0, maxMs: 10 }), 0);
});

Deno.test("`Backoff` counts failures and starts again after reset", () => {
  const b = new Backoff({ firstMs: 10, maxMs: 35 });
  assert.deepEqual([b.next(), b.next(), b.next(), b.next()], [10, 20, 35, 35]);
  assert.equal(b.failures, 4);
  b.reset();
  assert.deepEqual([b.failures, b.next()], [0, 10]);
});

Deno.test("`retry()` waits doubling delays between tries and stops at the attempt bound", async () => {
  const clock = recordingClock();
  let calls = 0;
  await assert.rejects(
    retry(() => {
      calls++;
      throw new Error(`try ${calls}`);
    }, { attempts: 4, firstMs: 100, maxMs: 300, clock }),
    { message: "try 4" },
  );
  assert.equal(calls, 4);
  assert.deepEqual(clock.waits, [100, 200, 300]);
});

Deno.test("`retry()` does not retry an error that is not retryable, nor after an abort", async () => {
  const clock = recordingClock();
  let calls = 0;
  await assert.rejects(
    retry(() => {
      calls++;
      throw new TypeError("bad input");
    }, {
      attempts: 5,
      firstMs: 1,
      maxMs: 1,
      clock,
      isRetryable: (e) => !(e instanceof TypeError),
    }),
    TypeError,
  );
  assert.deepEqual([calls, clock.waits], [1, []]);
  const stop = new AbortController();
  stop.abort();
  calls = 0;
  await assert.rejects(
    retry(() => {
      calls++;
      throw new Error("x");
    }, { attempts: 5, firstMs: 1, maxMs: 1, clock, signal: stop.signal }),
  );
  assert.equal(calls, 1);
});

Deno.test("`retry()` returns the first success and reports each retry", async () => {
  const clock = recordingClock();
  const seen: number[] = [];
  const v = await retry((n) => {
    if (n < 3) throw new Error("flaky");
    return n * 10;
  }, {
    attempts: 5,
    firstMs: 7,
    maxMs: 100,
    clock,
    onRetry: ({ attempt, delayMs }) => seen.push(attempt, delayMs),
  });
  assert.equal(v, 30);
  assert.deepEqual(seen, [1, 7, 2, 14]);
});
