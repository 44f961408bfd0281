import assert from "node:assert/strict";
import { diffJsonLines } from "./diff_json_lines.ts";

const EVENT = {
  eventKey: "60df9d1810ef7518:1",
  trackId: 1,
  frameIdx: 4,
  finalPlate: "24LSB1",
  plateConfidence: 0.9999,
  carBbox: [0, 228.7, 268.2, 461.3],
  plateBbox: [65.1, 387.5, 166.4, 419.3],
  createdAt: "2026-11-30T13:43:17.421Z",
  alertId: null,
};
const OPTIONS = {
  ignoreKeys: ["createdAt"],
  tolerance: { plateConfidence: 0.001, carBbox: 0.5, plateBbox: 0.5 },
};

function lines(...values: unknown[]): string {
  return values.map((v) => JSON.stringify(v)).join("\n") + "\n";
}

Deno.test("`diffJsonLines()` finds no difference between equal runs written at different times", () => {
  const d = diffJsonLines(
    lines(EVENT, { ...EVENT, trackId: 2 }),
    lines({ ...EVENT, createdAt: "2026-11-30T14:00:00.000Z" }, {
      ...EVENT,
      trackId: 2,
    }),
    OPTIONS,
  );
  assert.deepEqual(d.differences, []);
  assert.deepEqual(d.maxDeviation, {
    plateConfidence: 0,
    carBbox: 0,
    plateBbox: 0,
  });
});

Deno.test("`diffJsonLines()` reports a different plate, track or frame exactly", () => {
  const d = diffJsonLines(
    lines(EVENT),
    lines({ ...EVENT, finalPlate: "24L5B1", trackId: 3, frameIdx: 5 }),
    OPTIONS,
  );
  assert.deepEqual(d.differences, [
    "#1.trackId: 1 vs 3",
    "#1.frameIdx: 4 vs 5",
    '#1.finalPlate: "24LSB1" vs "24L5B1"',
  ]);
});

Deno.test("`diffJsonLines()` allows a box within its tolerance and reports one beyond it", () => {
  const near = diffJsonLines(
    lines(EVENT),
    lines({ ...EVENT, plateBbox: [65.2, 387.5, 166.0, 419.3] }),
    OPTIONS,
  );
  assert.deepEqual(near.differences, []);
  assert.ok(Math.abs(near.maxDeviation.plateBbox! - 0.4) < 1e-9);

  const far = diffJsonLines(
    lines(EVENT),
    lines({ ...EVENT, plateBbox: [65.1, 387.5, 166.4, 420.3] }),
    OPTIONS,
  );
  assert.deepEqual(far.differences, ["#1.plateBbox[3]: 419.3 vs 420.3"]);
  // A confidence beyond its tolerance.
  const conf = diffJsonLines(
    lines(EVENT),
    lines({ ...EVENT, plateConfidence: 0.9 }),
    OPTIONS,
  );
  assert.deepEqual(conf.differences, ["#1.plateConfidence: 0.9999 vs 0.9"]);
});

Deno.test("`diffJsonLines()` reports a missing event, a missing key and a changed shape", () => {
  assert.deepEqual(
    diffJsonLines(lines(EVENT, EVENT), lines(EVENT), OPTIONS).differences,
    ["line count: 2 vs 1"],
  );
  const { alertId: _, ...noAlert } = EVENT;
  assert.deepEqual(
    diffJsonLines(lines(EVENT), lines(noAlert), OPTIONS).differences,
    ["#1.alertId: present vs missing"],
  );
  assert.deepEqual(
    diffJsonLines(
      lines({ plates: [{ text: "B144MOS" }] }),
      lines({ plates: [] }),
    ).differences,
    ['#1.plates: [{"text":"B144MOS"}] vs []'],
  );
  assert.deepEqual(
    diffJsonLines(lines({ alertId: null }), lines({ alertId: 0 })).differences,
    ["#1.alertId: null vs 0"],
  );
});

Deno.test("`diffJsonLines()` names the side and line that is not JSON", () => {
  assert.throws(
    () => diffJsonLines(lines(EVENT), "{}\nonnxruntime warning\n"),
    /actual line 2 is not JSON/,
  );
});
