import assert from "node:assert/strict";
import { join } from "node:path";
import { Logger } from "../../src/log/mod.ts";
import { openDataDirOutbox } from "../../src/sink/data_dir_outbox.ts";

function capture(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = new Logger({
    sink: (l) => lines.push(l),
    level: "debug",
    journald: false,
  });
  return { log, lines };
}

Deno.test("`openDataDirOutbox()` creates the outbox of a new data dir without a word", async () => {
  const dir = await Deno.makeTempDir({ prefix: "data_dir_outbox_test_" });
  try {
    const { log, lines } = capture();
    openDataDirOutbox(dir, { log }).close();
    assert.deepEqual(lines, []);
    assert.ok(Deno.statSync(join(dir, "outbox.db")).size > 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("`openDataDirOutbox()` says loudly that the outbox is missing from a data dir used before", async () => {
  const dir = await Deno.makeTempDir({ prefix: "data_dir_outbox_test_" });
  try {
    Deno.writeFileSync(join(dir, "pipeline.db"), new Uint8Array());
    const { log, lines } = capture();
    const outbox = openDataDirOutbox(dir, { log });
    outbox.close();
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(lines[0], /ERROR/);
    assert.ok(lines[0].includes(join(dir, "outbox.db")), lines[0]);
    assert.match(lines[0], /missing/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
