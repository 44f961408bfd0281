/**
 * Real models on the shared cases of issue 11 kind 1 (pixel format and stream
 * layout): `process --json` on a 10-bit HEVC clip and on a clip whose first
 * video track is a thumbnail gives what each `case.json` expects.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { runDashcam } from "../support/cli.ts";
import { SHARED_DIR, TEST_MODELS } from "../support/shared.ts";

/** A case file (`../shared/cases/README.md`). */
interface CaseFile {
  command: "process" | "read";
  inputs: string[];
  expect: Record<string, number | [number, number]>;
  no_other_plates?: boolean;
}

const norm = (s: unknown) => String(s).toUpperCase().replace(/[^A-Z0-9]/g, "");

for (const name of ["hevc_main10", "thumbnail_stream_first"]) {
  Deno.test(`process --json on cases/${name} gives the plates its case.json expects`, async () => {
    const file = join(SHARED_DIR, "cases", name, "case.json");
    const spec = JSON.parse(await Deno.readTextFile(file)) as CaseFile;
    assert.equal(spec.command, "process");
    const dataDir = await Deno.makeTempDir({ prefix: "cases_test_" });
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
        ...spec.inputs.map((i) => join(dirname(file), i)),
      ]);
      assert.equal(out.code, 0, out.stderr);
      const plates = out.stdout.trim().split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l))
        .map((e) => norm(e.finalPlate ?? e.final_plate ?? e.text ?? ""))
        .filter((t) => t !== "");
      for (const [plate, want] of Object.entries(spec.expect)) {
        const [lo, hi] = typeof want === "number" ? [want, want] : want;
        const n = plates.filter((p) => p === plate).length;
        assert.ok(
          lo <= n && n <= hi,
          `${plate} x${n}, want ${want}: ${plates}`,
        );
      }
      if (spec.no_other_plates) {
        const other = plates.filter((p) => !(p in spec.expect));
        assert.deepEqual(other, [], `other plates: ${other}`);
      }
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  });
}
