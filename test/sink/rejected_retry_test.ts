import assert from "node:assert/strict";
import {
  REJECTED_RETRY_MAX_REFUSALS,
  rejectedRetryDelayMs,
} from "../../src/sink/rejected_retry.ts";

Deno.test("`rejectedRetryDelayMs()` doubles from 10 min to at most 24 h, then stops", () => {
  const minutes = Array.from(
    { length: REJECTED_RETRY_MAX_REFUSALS },
    (_, i) => rejectedRetryDelayMs(i + 1),
  ).map((ms) => ms === null ? null : ms / 60_000);
  assert.deepEqual(minutes, [
    10,
    20,
    40,
    80,
    160,
    320,
    640,
    1280,
    1440,
    null,
  ]);
  assert.equal(rejectedRetryDelayMs(50), null);
  assert.throws(() => rejectedRetryDelayMs(0), RangeError);
  assert.throws(() => rejectedRetryDelayMs(1.5), RangeError);
});
