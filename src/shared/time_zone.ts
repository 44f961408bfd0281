/**
 * Wall-clock times in IANA time zones, with the platform's `Intl` time-zone
 * database (no zone table of our own). Pure, no I/O.
 *
 * Dashcams write local wall-clock time without a zone (in file names, and in
 * many cameras' `creation_time`); these helpers turn such a time into an
 * instant, and an instant into the local time a person reads.
 *
 * @module
 */

/** A wall-clock date and time, without a zone. Month is 1-12. */
export interface WallTime {
  /** Year, e.g. 2026. */
  year: number;
  /** Month, 1-12. */
  month: number;
  /** Day of month, 1-31. */
  day: number;
  /** Hour, 0-23. */
  hour: number;
  /** Minute, 0-59. */
  minute: number;
  /** Second, 0-59. */
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(zone, f);
  }
  return f;
}

/**
 * Whether `zone` is an IANA time-zone name the platform knows
 * (`Europe/London`, `America/Chicago`, `UTC`).
 *
 * @example
 * ```ts
 * import { isTimeZone } from "./time_zone.ts";
 * import assert from "node:assert/strict";
 * assert.equal(isTimeZone("Europe/London"), true);
 * assert.equal(isTimeZone("Mars/Olympus"), false);
 * ```
 * @param zone The name.
 * @returns True when known.
 */
export function isTimeZone(zone: string): boolean {
  if (typeof zone !== "string" || zone === "") return false;
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

/**
 * The zone's offset from UTC at an instant, in minutes (east positive:
 * `Europe/Berlin` in winter is 60).
 *
 * @param epochMs The instant.
 * @param zone IANA zone.
 * @returns Minutes east of UTC.
 * @throws {RangeError} On an unknown zone.
 */
export function zoneOffsetMinutes(epochMs: number, zone: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(zone).formatToParts(new Date(epochMs))) {
    if (p.type !== "literal") parts[p.type] = Number(p.value);
  }
  const asUtc = Date.UTC(
    parts.year,
    parts.month - 1,
    parts.day,
    parts.hour,
    parts.minute,
    parts.second,
  );
  const whole = Math.floor(epochMs / 1000) * 1000;
  return Math.round((asUtc - whole) / 60_000);
}

/**
 * The instant a wall-clock time in `zone` names. In the hour a DST change
 * skips, the time is taken with the offset before the change (what a camera
 * whose clock was not moved yet writes); in the hour repeated, the first.
 *
 * @example
 * ```ts
 * import { wallTimeToEpochMs } from "./time_zone.ts";
 * import assert from "node:assert/strict";
 * const t = wallTimeToEpochMs(
 *   { year: 2026, month: 7, day: 1, hour: 8, minute: 0, second: 0 },
 *   "Europe/London",
 * );
 * assert.equal(new Date(t).toISOString(), "2026-07-01T07:00:00.000Z");
 * ```
 * @param wall The wall-clock time (milliseconds may be added by the caller).
 * @param zone IANA zone.
 * @returns Epoch milliseconds.
 * @throws {RangeError} On an unknown zone.
 */
export function wallTimeToEpochMs(wall: WallTime, zone: string): number {
  const asUtc = Date.UTC(
    wall.year,
    wall.month - 1,
    wall.day,
    wall.hour,
    wall.minute,
    wall.second,
  );
  // The offsets a day before and a day after cover any change near it.
  const day = 86_400_000;
  const before = asUtc - zoneOffsetMinutes(asUtc - day, zone) * 60_000;
  const after = asUtc - zoneOffsetMinutes(asUtc + day, zone) * 60_000;
  const names = (t: number) =>
    t + zoneOffsetMinutes(t, zone) * 60_000 === asUtc;
  const valid = [before, after].filter(names);
  // Both: a repeated hour (the first instant); none: a skipped hour (the
  // offset before the change).
  return valid.length > 0 ? Math.min(...valid) : before;
}

/**
 * The wall-clock digits of an ISO time read as UTC (`…Z`), for a camera
 * that writes local time but labels it UTC.
 *
 * @param iso ISO time.
 * @returns Its UTC wall-clock fields and milliseconds.
 */
export function utcWallTime(iso: string): WallTime & { ms: number } {
  const d = new Date(iso);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    ms: d.getUTCMilliseconds(),
  };
}

function pad(n: number, width = 2): string {
  return String(Math.abs(n)).padStart(width, "0");
}

/**
 * An instant as local time in `zone` with its offset, ISO 8601:
 * `2026-03-15T08:15:02+01:00` (`+00:00` for UTC; milliseconds only when
 * not zero).
 *
 * @example
 * ```ts
 * import { formatLocalTime } from "./time_zone.ts";
 * import assert from "node:assert/strict";
 * assert.equal(
 *   formatLocalTime("2026-03-15T07:15:02.000Z", "Europe/Berlin"),
 *   "2026-03-15T08:15:02+01:00",
 * );
 * ```
 * @param time ISO time or epoch milliseconds.
 * @param zone IANA zone.
 * @returns The local time with offset.
 */
export function formatLocalTime(time: string | number, zone: string): string {
  const t = typeof time === "number" ? time : Date.parse(time);
  const offset = zoneOffsetMinutes(t, zone);
  const w = new Date(t + offset * 60_000);
  const ms = w.getUTCMilliseconds();
  const sign = offset < 0 ? "-" : "+";
  return `${pad(w.getUTCFullYear(), 4)}-${pad(w.getUTCMonth() + 1)}-${
    pad(w.getUTCDate())
  }T${pad(w.getUTCHours())}:${pad(w.getUTCMinutes())}:${
    pad(w.getUTCSeconds())
  }${ms ? `.${pad(ms, 3)}` : ""}${sign}${
    pad(Math.floor(Math.abs(offset) / 60))
  }:${pad(Math.abs(offset) % 60)}`;
}

/**
 * The first instant of a calendar day in `zone` (local midnight), ISO UTC.
 * A day is not always 24 h long (DST), so the next day's start is asked
 * for, not added.
 *
 * @example
 * ```ts
 * import { startOfDay } from "./time_zone.ts";
 * import assert from "node:assert/strict";
 * assert.equal(
 *   startOfDay({ year: 2026, month: 3, day: 15 }, "America/Chicago"),
 *   "2026-03-15T05:00:00.000Z",
 * );
 * ```
 * @param date Year, month (1-12) and day.
 * @param zone IANA zone.
 * @returns ISO time (UTC).
 */
export function startOfDay(
  date: { year: number; month: number; day: number },
  zone: string,
): string {
  return new Date(
    wallTimeToEpochMs({ ...date, hour: 0, minute: 0, second: 0 }, zone),
  ).toISOString();
}
