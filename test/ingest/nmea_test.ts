import assert from "node:assert/strict";
import { NotNmeaError, parseNmea } from "../../src/ingest/nmea.ts";

function withChecksum(body: string): string {
  let x = 0;
  for (const c of body) x ^= c.charCodeAt(0);
  return `$${body}*${x.toString(16).toUpperCase().padStart(2, "0")}`;
}

Deno.test("parseNmea() reads RMC time, position, knots and course", () => {
  const text = withChecksum(
    "GPRMC,123519.50,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W",
  ) + "\n";
  const t = parseNmea(text, { source: "a.nmea" });
  const f = t.fixes[0]!;
  assert.equal(f.utcMs, Date.UTC(2094, 2, 23, 12, 35, 19, 500));
  assert.ok(Math.abs(f.lat - (48 + 7.038 / 60)) < 1e-12);
  assert.ok(Math.abs(f.lon - (11 + 31 / 60)) < 1e-12);
  assert.ok(Math.abs(f.speedKmh! - 22.4 * 1.852) < 1e-12);
  assert.equal(f.headingDeg, 84.4);
});

Deno.test("parseNmea() leaves out status V, bad checksums and GGA without a fix", () => {
  const good = withChecksum("GPRMC,000001,A,5200.0,N,00000.5,W,10,90,010126,,");
  const text = [
    withChecksum("GPRMC,000000,V,,,,,,,010126,,"),
    good,
    good.replace(/\*..$/, "*FF"),
  ].join("\r\n");
  const t = parseNmea(text, { source: "b.nmea" });
  assert.equal(t.fixes.length, 1);
  assert.equal(t.skipped.count, 2);
  assert.equal(t.fixes[0]!.lon, -0.5 / 60);
});

Deno.test("parseNmea() refuses a file that is not NMEA", () => {
  assert.throws(
    () => parseNmea("lat,lon\n52,0\n", { source: "/sd/x.gps" }),
    (err: unknown) =>
      err instanceof NotNmeaError &&
      /x\.gps.*NMEA/.test((err as Error).message),
  );
});
