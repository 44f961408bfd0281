import assert from "node:assert/strict";
import { join } from "node:path";
import { pruneSynced } from "../../src/daemon/app.ts";
import { Logger } from "../../src/log/mod.ts";
import { Outbox } from "../../src/sink/mod.ts";

Deno.test("`pruneSynced()` deletes synced events older than the retention and their evidence, never unsynced ones", async () => {
  const dir = await Deno.makeTempDir();
  const outbox = Outbox.open(join(dir, "outbox.db"));
  try {
    await Deno.mkdir(join(dir, "evidence", "v"), { recursive: true });
    for (const i of [1, 2, 3]) {
      const evidence = `evidence/v/${i}.png`;
      await Deno.writeFile(join(dir, evidence), new Uint8Array([i]));
      outbox.add({
        eventKey: `v:${i}`,
        videoId: "v",
        trackId: i,
        frameIdx: i,
        ts: "2026-01-01T00:00:00.000Z",
        finalPlate: `AB${i}CD`,
        plateConfidence: 0.9,
        carBbox: [0, 0, 10, 10],
        plateBbox: [1, 1, 5, 3],
        evidence,
      });
    }
    const [a, b] = outbox.nextBatch(3).map((e) => e.id);
    const day = 86_400_000;
    outbox.markSent([a], new Date(Date.now() - 40 * day).toISOString()); // old, synced
    outbox.markSent([b], new Date(Date.now() - 2 * day).toISOString()); // recent, synced
    // Their pictures were offered to the fleet (the evidence pass after each
    // sync); event 1 also has a vehicle crop, which goes with it.
    outbox.markEvidenceSynced([a!, b!], 1);
    await Deno.writeFile(
      join(dir, "evidence/v/1_vehicle.jpg"),
      new Uint8Array([1]),
    );
    // Event 3 is old but never synced.
    const lines: string[] = [];
    const deleted = pruneSynced(outbox, {
      dataDir: dir,
      days: 30,
      log: new Logger({ sink: (l) => lines.push(l), journald: true }),
    });
    assert.equal(deleted, 1);
    assert.deepEqual(outbox.query({}).map((e) => e.eventKey).sort(), [
      "v:2",
      "v:3",
    ]);
    const left = [...Deno.readDirSync(join(dir, "evidence", "v"))].map((e) =>
      e.name
    ).sort();
    assert.deepEqual(left, ["2.png", "3.png"]);
    assert.ok(
      lines.some((l) => l.startsWith("<6>pruned synced events events=1")),
      lines.join("\n"),
    );
  } finally {
    outbox.close();
    await Deno.remove(dir, { recursive: true });
  }
});
