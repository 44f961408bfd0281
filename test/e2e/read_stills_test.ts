/**
 * Real models on real photos: `read --json` on the Romanian dashcam stills
 * reads every clearly readable ground-truth plate exactly and reports no
 * plate that is not there.
 */
import assert from "node:assert/strict";
import { iou } from "../../src/vision/nms.ts";
import type { Box } from "../../src/shared/mod.ts";
import { runDashcam } from "../support/cli.ts";
import {
  loadGroundTruth,
  SHARED_MEDIA,
  TEST_MODELS,
} from "../support/shared.ts";

Deno.test("read --json reads every clear plate of the dashcam stills exactly, and no false plate", async () => {
  const truth = (await loadGroundTruth()).filter((t) =>
    t.file.startsWith("stills/ro_dashcam/")
  );
  assert.equal(truth.length, 18);
  const dataDir = await Deno.makeTempDir();
  try {
    const out = await runDashcam([
      "read",
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
    assert.equal(lines.length, 18);
    let clear = 0;
    let hardExact = 0;
    let hard = 0;
    for (const [i, t] of truth.entries()) {
      const line = lines[i];
      assert.equal(line.file, `${SHARED_MEDIA}/${t.file}`);
      const texts: string[] = line.plates.map((p: { text: string }) => p.text);
      // Sorted by confidence, highest first.
      const confs = line.plates.map((p: { confidence: number }) =>
        p.confidence
      );
      assert.deepEqual(confs, [...confs].sort((a, b) => b - a));
      for (const p of t.plates) {
        if (p.hard) {
          hard++;
          if (texts.includes(p.text)) hardExact++;
          continue;
        }
        clear++;
        assert.ok(
          texts.includes(p.text),
          `${t.file}: ${p.text} not read, got ${texts}`,
        );
      }
      // A reported plate is false unless it is a ground-truth plate: same text,
      // or (a misread) a box overlapping a ground-truth box.
      for (const p of line.plates as Array<{ text: string; plate_bbox: Box }>) {
        const real = t.plates.some((g) =>
          g.text === p.text ||
          (g.box !== undefined && iou(g.box, p.plate_bbox) > 0.3)
        );
        assert.ok(real, `${t.file}: false plate ${p.text}`);
      }
      for (const p of line.plates) {
        assert.equal(p.plate_bbox.length, 4);
        assert.equal(p.car_bbox.length, 4);
        // The plate's centre lies in its vehicle's box.
        const cx = (p.plate_bbox[0] + p.plate_bbox[2]) / 2;
        const cy = (p.plate_bbox[1] + p.plate_bbox[3]) / 2;
        assert.ok(
          cx >= p.car_bbox[0] && cx <= p.car_bbox[2] && cy >= p.car_bbox[1] &&
            cy <= p.car_bbox[3],
        );
      }
    }
    assert.equal(clear, 19);
    assert.equal(hard, 7);
    assert.ok(hardExact >= 4, `only ${hardExact} of ${hard} hard plates exact`);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
