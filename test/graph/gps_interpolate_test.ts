import assert from "node:assert/strict";
import { gpsAt } from "../../src/graph/gps_interpolate.ts";

const fixes = [
  { t: 0, lat: 50, lon: 30, speedKmh: 36, headingDeg: 350 },
  { t: 1, lat: 50.0001, lon: 30, speedKmh: 72, headingDeg: 10 },
  { t: 9, lat: 50.0002, lon: 30 },
];

Deno.test("gpsAt() interpolates position and speed, heading the short way round", () => {
  const at = gpsAt(fixes, 0.25);
  assert.ok(at.ok);
  assert.ok(Math.abs(at.lat - 50.000025) < 1e-12);
  assert.equal(at.speedKmh, 45);
  assert.ok(Math.abs(at.headingDeg! - 355) < 1e-9);
});

Deno.test("gpsAt() gives no location across a gap longer than maxGapS", () => {
  const at = gpsAt(fixes, 5);
  assert.equal(at.ok, false);
  assert.match((at as { reason: string }).reason, /gap of 8\.0 s/);
});

Deno.test("gpsAt() holds the end fixes within edgeS, not further", () => {
  assert.ok(gpsAt(fixes, -1).ok);
  assert.equal(gpsAt(fixes, -2).ok, false);
  assert.equal(gpsAt([], 0).ok, false);
});

Deno.test("gpsAt() derives speed and heading from the fixes when they carry none", () => {
  const at = gpsAt(
    [{ t: 0, lat: 0, lon: 0 }, { t: 10, lat: 0, lon: 0.001 }],
    5,
    {
      maxGapS: 20,
    },
  );
  assert.ok(at.ok);
  assert.equal(Math.round(at.headingDeg!), 90);
  assert.ok(Math.abs(at.speedKmh! - 111.195 / 10 * 3.6) < 0.01);
});

Deno.test("gpsAt() crosses the antimeridian the short way", () => {
  const at = gpsAt([{ t: 0, lat: 0, lon: 179.9999 }, {
    t: 1,
    lat: 0,
    lon: -179.9999,
  }], 0.5);
  assert.ok(at.ok && Math.abs(Math.abs(at.lon) - 180) < 1e-9);
});
