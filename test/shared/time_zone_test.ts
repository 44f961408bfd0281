import assert from "node:assert/strict";
import {
  formatLocalTime,
  isTimeZone,
  startOfDay,
  wallTimeToEpochMs,
  zoneOffsetMinutes,
} from "../../src/shared/time_zone.ts";

const wall = (s: string) => {
  const [d, t] = s.split("T");
  const [year, month, day] = d.split("-").map(Number);
  const [hour, minute, second] = t.split(":").map(Number);
  return { year, month, day, hour, minute, second };
};
const iso = (ms: number) => new Date(ms).toISOString();

Deno.test("`wallTimeToEpochMs()` reads a wall clock in its zone, summer and winter", () => {
  assert.equal(
    iso(wallTimeToEpochMs(wall("2026-03-15T08:15:02"), "Europe/London")),
    "2026-03-15T08:15:02.000Z", // GMT in March before the 29th
  );
  assert.equal(
    iso(wallTimeToEpochMs(wall("2026-07-15T08:15:02"), "Europe/London")),
    "2026-07-15T07:15:02.000Z", // BST
  );
  assert.equal(
    iso(wallTimeToEpochMs(wall("2026-01-15T08:00:00"), "America/Chicago")),
    "2026-01-15T14:00:00.000Z",
  );
  assert.equal(
    iso(wallTimeToEpochMs(wall("2026-01-15T08:00:00"), "Asia/Kolkata")),
    "2026-01-15T02:30:00.000Z",
  );
  assert.equal(
    iso(wallTimeToEpochMs(wall("2026-01-15T08:00:00"), "UTC")),
    "2026-01-15T08:00:00.000Z",
  );
});

Deno.test("`wallTimeToEpochMs()` across DST changes: a skipped hour takes the old offset, a repeated one the first", () => {
  // Europe/Berlin 2026-03-29 02:00 -> 03:00 (02:30 does not exist)
  assert.equal(
    iso(wallTimeToEpochMs(wall("2026-03-29T02:30:00"), "Europe/Berlin")),
    "2026-03-29T01:30:00.000Z",
  );
  // 2026-10-25 03:00 -> 02:00: 02:30 happens twice, at 00:30Z and 01:30Z
  assert.equal(
    iso(wallTimeToEpochMs(wall("2026-10-25T02:30:00"), "Europe/Berlin")),
    "2026-10-25T00:30:00.000Z",
  );
  // Every wall time of an ordinary day maps back to itself.
  for (let h = 0; h < 24; h++) {
    const w = wall(`2026-06-01T${String(h).padStart(2, "0")}:10:00`);
    const t = wallTimeToEpochMs(w, "Australia/Sydney");
    assert.equal(
      formatLocalTime(t, "Australia/Sydney").slice(0, 19),
      `2026-06-01T${String(h).padStart(2, "0")}:10:00`,
    );
  }
});

Deno.test("`formatLocalTime()` shows local time with its offset", () => {
  assert.equal(
    formatLocalTime("2026-07-15T07:15:02.000Z", "Europe/London"),
    "2026-07-15T08:15:02+01:00",
  );
  assert.equal(
    formatLocalTime("2026-01-15T14:00:00.250Z", "America/Chicago"),
    "2026-01-15T08:00:00.250-06:00",
  );
  assert.equal(
    formatLocalTime("2026-01-15T02:30:00Z", "Asia/Kolkata"),
    "2026-01-15T08:00:00+05:30",
  );
  assert.equal(
    formatLocalTime("2026-01-15T02:30:00Z", "UTC"),
    "2026-01-15T02:30:00+00:00",
  );
  assert.equal(
    zoneOffsetMinutes(Date.parse("2026-01-15T00:00:00Z"), "America/St_Johns"),
    -210,
  );
});

Deno.test("`startOfDay()` is local midnight, and days around DST are 23 or 25 hours", () => {
  assert.equal(
    startOfDay({ year: 2026, month: 3, day: 29 }, "Europe/Berlin"),
    "2026-03-28T23:00:00.000Z",
  );
  assert.equal(
    startOfDay({ year: 2026, month: 3, day: 30 }, "Europe/Berlin"),
    "2026-03-29T22:00:00.000Z",
  );
  assert.equal(
    startOfDay({ year: 2026, month: 11, day: 30 }, "UTC"),
    "2026-11-30T00:00:00.000Z",
  );
});

Deno.test("`isTimeZone()` knows IANA names only", () => {
  for (const z of ["UTC", "Europe/London", "America/Argentina/Buenos_Aires"]) {
    assert.equal(isTimeZone(z), true, z);
  }
  for (const z of ["", "Mars/Olympus", "GMT+25", "Europe/Londn"]) {
    assert.equal(isTimeZone(z), false, z);
  }
});
