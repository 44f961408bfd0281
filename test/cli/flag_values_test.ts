import assert from "node:assert/strict";
import { join } from "node:path";
import { UsageError } from "../../src/cli/common.ts";
import { parseCountFlag, parseTimeFlag } from "../../src/cli/flag_values.ts";
import { Outbox } from "../../src/sink/mod.ts";
import { runDashcam } from "../support/cli.ts";
import { writeTrivialConfig } from "../support/config.ts";

Deno.test("`parseCountFlag()` takes plain whole numbers in range and refuses the rest with one line naming the flag", () => {
  assert.equal(parseCountFlag("limit", "1"), 1);
  assert.equal(parseCountFlag("limit", "1000000"), 1_000_000);
  assert.equal(parseCountFlag("limit", " 42 "), 42);
  for (
    const bad of [
      "1e300",
      "1e3",
      "0",
      "-5",
      "+5",
      "2.5",
      "0x10",
      "",
      "Infinity",
      "NaN",
      "1000001",
      "99999999999999999999",
      "10 rows",
    ]
  ) {
    assert.throws(
      () => parseCountFlag("limit", bad),
      (err: unknown) =>
        err instanceof UsageError &&
        err.message ===
          `--limit needs a whole number from 1 to 1000000, got '${bad}'`,
      bad,
    );
  }
});

Deno.test("`parseTimeFlag()` takes ISO dates and date-times, UTC unless a zone is given", () => {
  const cases: Array<[string, string]> = [
    ["2026-11-24", "2026-11-24T00:00:00.000Z"],
    ["2026-11-24T08:00", "2026-11-24T08:00:00.000Z"],
    ["2026-11-24 08:00:05", "2026-11-24T08:00:05.000Z"],
    ["2026-11-24T08:00:05.25Z", "2026-11-24T08:00:05.250Z"],
    ["2026-11-24T08:00:05+02:00", "2026-11-24T06:00:05.000Z"],
    ["2026-11-24T08:00:05-0130", "2026-11-24T09:30:05.000Z"],
    ["2024-02-29", "2024-02-29T00:00:00.000Z"], // leap year
    ["2000-02-29", "2000-02-29T00:00:00.000Z"], // leap century
    ["0099-01-01", "0099-01-01T00:00:00.000Z"], // not taken as 1999
  ];
  for (const [text, iso] of cases) {
    assert.equal(parseTimeFlag("since", text), iso, text);
  }
});

Deno.test("`parseTimeFlag()` refuses dates that are not on the calendar instead of rolling them over", () => {
  for (
    const bad of [
      "2026-02-30", // Date.parse gives March 2nd
      "2026-02-29", // not a leap year
      "1900-02-29", // not a leap century
      "2026-04-31",
      "2026-13-01",
      "2026-00-10",
      "2026-11-24T24:00",
      "2026-11-24T08:60",
      "2026-11-24T08:00:60",
      "2026-11-24T08:00+15:00",
      "99999",
      "1732435200",
      "yesterday",
      "Nov 24 2026",
      "2026-11-24T08",
      "",
    ]
  ) {
    assert.throws(
      () => parseTimeFlag("since", bad),
      (err: unknown) =>
        err instanceof UsageError &&
        err.message.startsWith("--since needs an ISO date or date-time") &&
        err.message.endsWith(`got '${bad}'`) && !err.message.includes("\n"),
      bad,
    );
  }
});

Deno.test("vehicles answers bad --limit, --since and --until with one usage line and exit 2, not an SQL error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const config = await writeTrivialConfig(dir);
    await Deno.mkdir(join(dir, "data"));
    const cases: Array<[string[], RegExp]> = [
      [["--limit", "1e300"], /^dashcam vehicles: --limit needs a whole number/],
      [["--limit", "0"], /^dashcam vehicles: --limit needs a whole number/],
      [["--since", "99999"], /^dashcam vehicles: --since needs an ISO date/],
      [
        ["--until", "2026-02-30"],
        /^dashcam vehicles: --until needs an ISO date/,
      ],
      [
        ["--since", "2026-03-01", "--until", "2026-02-01"],
        /^dashcam vehicles: --since must not be later than --until/,
      ],
    ];
    for (const [args, want] of cases) {
      const out = await runDashcam(["vehicles", "--config", config, ...args]);
      assert.equal(out.code, 2, `${args.join(" ")}: ${out.stderr}`);
      const lines = out.stderr.trim().split("\n");
      assert.equal(lines.length, 1, out.stderr);
      assert.match(lines[0], want);
    }
    // Nothing was created for a refused command.
    assert.equal(
      await Deno.stat(join(dir, "data", "outbox.db")).then(
        () => true,
        () => false,
      ),
      false,
    );
    // A valid query still works.
    Outbox.open(join(dir, "data", "outbox.db")).close();
    const ok = await runDashcam([
      "vehicles",
      "--config",
      config,
      "--since",
      "2026-02-28",
      "--limit",
      "5",
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /no matching vehicles/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("`parseTimeFlag()` reads dates as whole days and wall times in the camera zone", () => {
  const zone = { timeZone: "America/Chicago" };
  // Midnight in Chicago (CST, UTC-6) and the end of that day.
  assert.equal(
    parseTimeFlag("since", "2026-01-15", zone),
    "2026-01-15T06:00:00.000Z",
  );
  assert.equal(
    parseTimeFlag("until", "2026-01-15", { ...zone, endOfDay: true }),
    "2026-01-16T06:00:00.000Z",
  );
  assert.equal(
    parseTimeFlag("since", "2026-07-15T08:00", zone),
    "2026-07-15T13:00:00.000Z", // CDT, UTC-5
  );
  // An explicit offset wins over the zone.
  assert.equal(
    parseTimeFlag("since", "2026-07-15T08:00Z", zone),
    "2026-07-15T08:00:00.000Z",
  );
  // UTC, as before, with a whole day for --until.
  assert.equal(
    parseTimeFlag("until", "2026-02-28", { endOfDay: true }),
    "2026-03-01T00:00:00.000Z",
  );
});
