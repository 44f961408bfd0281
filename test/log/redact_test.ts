import assert from "node:assert/strict";
import { formatLine, redactSecrets } from "../../src/log/mod.ts";

const SECRET = "S3cr3t-pw";

Deno.test("`redactSecrets()` hides the password of every URL shape", () => {
  const cases: Array<[string, string]> = [
    [
      `postgres://dashcam:${SECRET}@fleet:5432/db`,
      "postgres://dashcam:***@fleet:5432/db",
    ],
    [
      `postgresql://dashcam:${SECRET}@fleet/db`,
      "postgresql://dashcam:***@fleet/db",
    ],
    [`postgres//dashcam:${SECRET}@fleet/db`, "postgres//dashcam:***@fleet/db"],
    [
      `postgress://dashcam:${SECRET}@fleet/db`,
      "postgress://dashcam:***@fleet/db",
    ],
    [`postgress:dashcam:${SECRET}@fleet/db`, "postgress:***@fleet/db"],
    [`postgres:/dashcam:${SECRET}@fleet/db`, "postgres:/dashcam:***@fleet/db"],
    [`dashcam:${SECRET}@fleet:5432/db`, "dashcam:***@fleet:5432/db"],
    // A password holding @, : and / (not percent-encoded): up to the last @.
    [`postgres://u:${SECRET}@x:y/z@fleet/db`, "postgres://u:***@fleet/db"],
    [
      `url=postgres://u:${SECRET}@fleet/db next`,
      "url=postgres://u:***@fleet/db next",
    ],
    [`host=fleet password=${SECRET} user=u`, "host=fleet password=*** user=u"],
    [
      `postgres://u@fleet/db?password=${SECRET}&x=1`,
      "postgres://u@fleet/db?password=***&x=1",
    ],
  ];
  for (const [input, expected] of cases) {
    assert.equal(redactSecrets(input), expected, input);
    assert.ok(!redactSecrets(input).includes(SECRET), input);
  }
  // Nothing secret: unchanged.
  for (
    const text of [
      "postgres://dashcam@fleet:5432/db",
      "mail ops@example.com at 12:30",
      "clip 2026-01-01T10:20:30Z done",
    ]
  ) {
    assert.equal(redactSecrets(text), text);
  }
});

Deno.test("`formatLine()` never writes a password, in the message or a field", () => {
  const line = formatLine("error", `bad url postgres//u:${SECRET}@h/db`, {
    journald: true,
    fields: {
      url: `u:${SECRET}@h:5432/db`,
      nested: { url: `x://u:${SECRET}@h` },
    },
  });
  assert.ok(!line.includes(SECRET), line);
  assert.equal(
    line,
    '<3>bad url postgres//u:***@h/db url=u:***@h:5432/db nested={"url":"x://u:***@h"}',
  );
});
