/**
 * Real models on real footage: `process --json` on every media clip reports
 * each ground-truth plate exactly, once per vehicle, and nothing on the clip
 * whose plates nobody can read.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runDashcam } from "../support/cli.ts";
import { decodePngWithSharp } from "../support/png_decode.ts";
import {
  loadGroundTruth,
  SHARED_MEDIA,
  TEST_MODELS,
} from "../support/shared.ts";

Deno.test("process --json reads each clip's ground-truth plates exactly once per vehicle, and no false plate", async () => {
  const truth = (await loadGroundTruth()).filter((t) =>
    t.file.startsWith("clips/")
  );
  assert.equal(truth.length, 7);
  const dataDir = await Deno.makeTempDir();
  try {
    const out = await runDashcam([
      "process",
      "--json",
      "--models-dir",
      TEST_MODELS,
      "--data-dir",
      dataDir,
      "--log-level",
      "warn",
      ...truth.map((t) => `${SHARED_MEDIA}/${t.file}`),
    ]);
    assert.equal(out.code, 0, out.stderr);
    const lines = out.stdout.trim().split("\n").map((l) => JSON.parse(l));
    // A clip with no plate is one line saying so, not an event.
    assert.deepEqual(
      lines.filter((l) => l.events === 0).map((l) => l.clip),
      truth.filter((t) => t.plates.length === 0).map((t) =>
        t.file.split("/").pop()
      ),
    );
    const events = lines.filter((l) => "finalPlate" in l);
    // video_id is the content hash; map it back through the outbox's video_id order.
    const byVideo = new Map<string, string[]>();
    for (const e of events) {
      byVideo.set(e.videoId, [...(byVideo.get(e.videoId) ?? []), e.finalPlate]);
      assert.ok(e.plateConfidence > 0 && e.plateConfidence <= 1);
      assert.ok(!Number.isNaN(Date.parse(e.ts)));
      assert.ok(e.evidence?.endsWith(".png"), "evidence crop saved");
      // The evidence decodes whole to a plate crop with something on it.
      const crop = await decodePngWithSharp(
        await Deno.readFile(join(dataDir, e.evidence)),
      );
      assert.ok(crop.width >= 8 && crop.height >= 4, `${e.evidence} size`);
      assert.ok(new Set(crop.data).size > 16, `${e.evidence} is flat`);
    }
    const expected = truth.flatMap((t) => t.plates.map((p) => p.text)).sort();
    assert.deepEqual(events.map((e) => e.finalPlate).sort(), expected);
    // One event per vehicle: no text twice within a clip.
    for (const [video, plates] of byVideo) {
      assert.equal(new Set(plates).size, plates.length, `${video}: ${plates}`);
    }
    // Frames and crops are cleaned up once the clips are done.
    assert.deepEqual([...Deno.readDirSync(join(dataDir, "frames"))], []);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
