/**
 * `status` only reads: on a damaged outbox it says so in one line (or in
 * `--json`), exits 1, and leaves the file as it found it (it used to
 * re-create the outbox empty and hide the error).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { openGraphDb } from "../../src/graph/db.ts";
import { Outbox } from "../../src/sink/outbox.ts";
import { runDashcam } from "../support/cli.ts";

async function dataDirWithGraph(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "status_damage_test_" });
  openGraphDb(join(dir, "pipeline.db")).close();
  return dir;
}

/** The outbox's files (pipeline.db's -wal/-shm come and go with any reader). */
function listing(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name)
    .filter((n) => n.startsWith("outbox")).sort();
}

for (
  const [what, bytes] of [
    ["zero bytes", new Uint8Array()],
    ["not a database", new TextEncoder().encode("hello\n".repeat(100))],
  ] as const
) {
  Deno.test(`status reports an outbox of ${what}, exits 1 and leaves it untouched`, async () => {
    const dir = await dataDirWithGraph();
    try {
      const path = join(dir, "outbox.db");
      Deno.writeFileSync(path, bytes);
      const before = listing(dir);
      const text = await runDashcam(["status", "--data-dir", dir]);
      assert.equal(text.code, 1, text.stdout + text.stderr);
      const lines = text.stderr.trim().split("\n");
      assert.equal(lines.length, 1, text.stderr);
      assert.ok(lines[0].includes(path), lines[0]);
      assert.match(lines[0], /damaged/);
      const json = await runDashcam(["status", "--json", "--data-dir", dir]);
      assert.equal(json.code, 1, json.stderr);
      const report = JSON.parse(json.stdout);
      assert.equal(report.outbox, null);
      assert.match(report.outboxError, /damaged/);
      assert.deepEqual(Deno.readFileSync(path), bytes, "file untouched");
      assert.deepEqual(listing(dir), before, "nothing created or renamed");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("status on a healthy outbox reports it and exits 0", async () => {
  const dir = await dataDirWithGraph();
  try {
    const path = join(dir, "outbox.db");
    const o = Outbox.open(path);
    o.add({
      eventKey: "v:1",
      videoId: "v",
      trackId: 1,
      frameIdx: 0,
      ts: "2026-01-01T00:00:00.000Z",
      finalPlate: "AB12CD",
      plateConfidence: 0.9,
      carBbox: [0, 0, 1, 1],
      plateBbox: [0, 0, 1, 1],
    });
    o.close();
    const out = await runDashcam(["status", "--json", "--data-dir", dir]);
    assert.equal(out.code, 0, out.stderr);
    const report = JSON.parse(out.stdout);
    assert.equal(report.outbox.pending, 1);
    assert.equal(report.outboxError, null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("vehicles (a search) on a damaged outbox says so, exits 1 and leaves it untouched", async () => {
  const dir = await dataDirWithGraph();
  try {
    const path = join(dir, "outbox.db");
    Deno.writeFileSync(path, new Uint8Array());
    const out = await runDashcam(["vehicles", "--data-dir", dir]);
    assert.equal(out.code, 1, out.stdout + out.stderr);
    assert.ok(out.stderr.includes(path), out.stderr);
    assert.equal(Deno.statSync(path).size, 0);
    assert.deepEqual(listing(dir), ["outbox.db"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
