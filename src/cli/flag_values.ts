/**
 * Strict parsing of command-line values: whole numbers in a range and ISO
 * 8601 dates and date-times. Pure. Each error is a {@linkcode UsageError}
 * naming the flag, what is allowed and the value given (exit code 2).
 *
 * @module
 */
import { UsageError } from "./common.ts";
import { startOfDay, wallTimeToEpochMs } from "../shared/mod.ts";

/** Options for {@linkcode parseCountFlag}. */
export interface CountFlagOptions {
  /** Smallest value allowed. @default {1} */
  min?: number;
  /** Largest value allowed. @default {1000000} */
  max?: number;
}

/**
 * Parses a whole number written in plain decimal digits (no sign, exponent,
 * fraction or hex) within `[min, max]`.
 *
 * @example
 * ```ts
 * import { parseCountFlag } from "./flag_values.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseCountFlag("limit", "25"), 25);
 * assert.throws(() => parseCountFlag("limit", "1e300"), /--limit needs a whole number from 1 to 1000000/);
 * ```
 * @param flag The flag's name, without dashes.
 * @param value The text given.
 * @param options The range.
 * @returns The number.
 * @throws {UsageError} When the text is not such a number.
 */
export function parseCountFlag(
  flag: string,
  value: string,
  options: CountFlagOptions = {},
): number {
  const { min = 1, max = 1_000_000 } = options;
  const n = /^\d{1,16}$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(
      `--${flag} needs a whole number from ${min} to ${max}, got '${value}'`,
    );
  }
  return n;
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * Parses an ISO 8601 date (`2026-11-24`, midnight UTC) or date-time
 * (`2026-11-24T08:00`, `2026-11-24 08:00:00.5`, `…Z`, `…+01:00`; no zone
 * means UTC). Dates that do not exist on the calendar (`2026-02-30`,
 * `2026-13-01`, `24:00`) are refused instead of rolled over, unlike
 * `Date.parse`.
 *
 * @example
 * ```ts
 * import { parseTimeFlag } from "./flag_values.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseTimeFlag("since", "2026-02-28T23:30:00+01:00"), "2026-02-28T22:30:00.000Z");
 * assert.throws(() => parseTimeFlag("since", "2026-02-30"), /--since needs/);
 * ```
 * @param flag The flag's name, without dashes.
 * @param value The text given.
 * @returns The instant as an ISO string in UTC (`toISOString`).
 * @throws {UsageError} When the text is not a valid ISO date or date-time.
 */
export function parseTimeFlag(
  flag: string,
  value: string,
  options: TimeFlagOptions = {},
): string {
  const timeZone = options.timeZone ?? "UTC";
  const fail = (why: string): never => {
    throw new UsageError(
      `--${flag} needs an ISO date or date-time such as 2026-11-24 or 2026-11-24T08:00:00Z (no zone means ${
        timeZone === "UTC" ? "UTC" : `the camera zone ${timeZone}`
      })${why}, got '${value}'`,
    );
  };
  const m = ISO.exec(value.trim());
  if (!m) return fail("");
  const [y, mo, d] = [m[1], m[2], m[3]].map(Number);
  const h = m[4] === undefined ? 0 : Number(m[4]);
  const mi = m[5] === undefined ? 0 : Number(m[5]);
  const s = m[6] === undefined ? 0 : Number(m[6]);
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  if (mo < 1 || mo > 12) return fail(": no such month");
  if (d < 1 || d > daysInMonth(y, mo)) return fail(": no such day");
  if (h > 23 || mi > 59 || s > 59) return fail(": no such time of day");
  let offsetMin = 0;
  const zone = m[8];
  if (zone !== undefined && zone.toUpperCase() !== "Z") {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    const zh = Number(z[2]);
    const zm = Number(z[3]);
    if (zh > 14 || zm > 59) return fail(": no such zone offset");
    offsetMin = (z[1] === "-" ? -1 : 1) * (zh * 60 + zm);
  }
  if (zone === undefined && timeZone !== "UTC") {
    // A whole day (or a wall time) in the camera's zone; `--until DATE`
    // takes in the whole day: up to the next day's local midnight.
    if (m[4] === undefined && options.endOfDay) {
      const next = new Date(Date.UTC(y, mo - 1, d + 1));
      return startOfDay({
        year: next.getUTCFullYear(),
        month: next.getUTCMonth() + 1,
        day: next.getUTCDate(),
      }, timeZone);
    }
    return new Date(
      wallTimeToEpochMs(
        { year: y, month: mo, day: d, hour: h, minute: mi, second: s },
        timeZone,
      ) + ms,
    ).toISOString();
  }
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d); // years 0-99 stay as written
  date.setUTCHours(h, mi, s, ms);
  if (m[4] === undefined && options.endOfDay) date.setUTCDate(d + 1);
  return new Date(date.getTime() - offsetMin * 60_000).toISOString();
}

/** Options for {@linkcode parseTimeFlag}. */
export interface TimeFlagOptions {
  /** IANA zone a date or a date-time without offset is read in. @default {"UTC"} */
  timeZone?: string;
  /** A date alone means the end of that day (the next local midnight), for `--until`. @default {false} */
  endOfDay?: boolean;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return leap ? 29 : 28;
  }
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
