import assert from "node:assert/strict";
import {
  formatLine,
  isLevelName,
  LEVELS,
  Logger,
} from "../../src/log/logger.ts";

const TIME = new Date("2024-01-02T03:04:05.678Z");

function capture(
  options: ConstructorParameters<typeof Logger>[0] = {},
): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = new Logger({
    journald: true,
    ...options,
    sink: (l) => lines.push(l),
  });
  return { logger, lines };
}

Deno.test("`formatLine()` prefixes journald lines with the syslog priority of each level", () => {
  const j = { journald: true };
  assert.equal(formatLine("error", "m", j), "<3>m");
  assert.equal(formatLine("warn", "m", j), "<4>m");
  assert.equal(formatLine("info", "m", j), "<6>m");
  assert.equal(formatLine("debug", "m", j), "<7>m");
});

Deno.test("`formatLine()` writes the time and a padded level name outside journald", () => {
  assert.equal(
    formatLine("info", "started", { journald: false, time: TIME }),
    "2024-01-02T03:04:05.678Z INFO  started",
  );
  assert.equal(
    formatLine("error", "boom", {
      journald: false,
      time: TIME,
      fields: { id: 7 },
    }),
    "2024-01-02T03:04:05.678Z ERROR boom id=7",
  );
  assert.equal(
    formatLine("debug", "x", { journald: false, time: TIME }),
    "2024-01-02T03:04:05.678Z DEBUG x",
  );
});

Deno.test("`formatLine()` quotes string values with spaces, quotes or `=`", () => {
  const line = formatLine("info", "clip taken", {
    journald: true,
    fields: {
      path: "/media/sd card/a.mp4",
      plain: "/media/sd/a.mp4",
      eq: "a=b",
      quote: 'say "hi"',
      empty: "",
      tab: "a\tb",
    },
  });
  assert.equal(
    line,
    '<6>clip taken path="/media/sd card/a.mp4" plain=/media/sd/a.mp4 ' +
      'eq="a=b" quote="say \\"hi\\"" empty="" tab="a\\tb"',
  );
});

Deno.test("`formatLine()` writes numbers, booleans, null, objects and errors as JSON", () => {
  const line = formatLine("warn", "m", {
    journald: true,
    fields: {
      n: 12.5,
      ok: false,
      none: null,
      skipped: undefined,
      box: [1, 2],
      obj: { a: "b c" },
      err: new Error("disk full"),
    },
  });
  assert.equal(
    line,
    '<4>m n=12.5 ok=false none=null box=[1,2] obj={"a":"b c"} err="disk full"',
  );
});

Deno.test("`Logger` writes only lines at or above its level", () => {
  const { logger, lines } = capture({ level: "warn" });
  logger.debug("d");
  logger.info("i");
  logger.warn("w");
  logger.error("e");
  assert.deepEqual(lines, ["<4>w", "<3>e"]);
  logger.level = "debug";
  logger.debug("d2");
  assert.deepEqual(lines, ["<4>w", "<3>e", "<7>d2"]);
  logger.level = "error";
  logger.warn("w2");
  logger.log("error", "e2", { k: 1 });
  assert.deepEqual(lines.slice(3), ["<3>e2 k=1"]);
  assert.equal(logger.level, "error");
});

Deno.test("`Logger` defaults to level info", () => {
  const { logger, lines } = capture();
  logger.debug("d");
  logger.info("i");
  assert.deepEqual(lines, ["<6>i"]);
});

Deno.test("`Logger.child()` adds fields without changing the parent", () => {
  const { logger, lines } = capture({ fields: { app: "dashcam" } });
  const clip = logger.child({ video: "abc" });
  const frame = clip.child({ frame: 3, video: "def" });
  clip.info("decoding");
  frame.info("read", { ms: 4 });
  frame.info("override", { frame: 4 });
  logger.info("parent");
  assert.deepEqual(lines, [
    "<6>decoding app=dashcam video=abc",
    "<6>read app=dashcam video=def frame=3 ms=4",
    "<6>override app=dashcam video=def frame=4",
    "<6>parent app=dashcam",
  ]);
});

Deno.test("`Logger.child()` copies the parent's level at creation", () => {
  const { logger, lines } = capture({ level: "error" });
  const child = logger.child({ c: 1 });
  child.warn("hidden");
  child.error("shown");
  assert.deepEqual(lines, ["<3>shown c=1"]);
});

Deno.test("`isLevelName()` accepts the four level names only", () => {
  assert.deepEqual(Object.keys(LEVELS), ["error", "warn", "info", "debug"]);
  for (const name of ["error", "warn", "info", "debug"]) {
    assert.equal(isLevelName(name), true, name);
  }
  for (const name of ["trace", "INFO", "", "toString", "constructor"]) {
    assert.equal(isLevelName(name), false, name);
  }
});
