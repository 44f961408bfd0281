import assert from "node:assert/strict";
import { deviceEvents, fleetDeviceId } from "./fleet_sim.ts";

Deno.test("simulated devices: the same seed gives the same events, in any slices", () => {
  const whole = deviceEvents(11, 3, { from: 0, count: 40 });
  const parts = [
    ...deviceEvents(11, 3, { from: 0, count: 13 }),
    ...deviceEvents(11, 3, { from: 13, count: 27 }),
  ];
  assert.deepEqual(parts, whole);
  assert.notDeepEqual(deviceEvents(12, 3, { from: 0, count: 40 }), whole);
});

Deno.test("simulated devices: event keys are the product's and never repeat across devices", () => {
  const keys = new Set<string>();
  for (let d = 0; d < 50; d++) {
    for (const e of deviceEvents(5, d, { from: 0, count: 200 })) {
      assert.equal(e.eventKey, `${e.videoId}:${e.trackId}`);
      assert.match(e.videoId, /^[0-9a-f]{16}$/);
      assert.match(e.finalPlate, /^[A-Z]{3}\d{4}$/);
      keys.add(e.eventKey);
    }
  }
  assert.equal(keys.size, 50 * 200);
  assert.equal(fleetDeviceId(42), "van-0042");
});
