/**
 * `deno task lint:deps` fails on a forbidden import, a database opened by
 * the wrong folder and ffmpeg spawned outside ingest (one line each, naming
 * the file and the rule), and passes on today's tree.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  ALLOWED,
  applyAllowed,
  checkDeps,
  type Edge,
  formatViolation,
  loadTree,
  type SourceFile,
} from "../../scripts/lint_deps.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const SCRIPT = join(ROOT, "scripts/lint_deps.ts");

function lines(edges: Edge[], files: SourceFile[]): string[] {
  return checkDeps(edges, files).map(formatViolation);
}

Deno.test("checkDeps: a stage importing daemon breaks the layer (and mod.ts) rule", () => {
  const out = lines([
    { from: "src/vision/x.ts", line: 3, to: "src/daemon/y.ts" },
  ], []);
  assert.equal(out.length, 2);
  assert.match(
    out[0],
    /^src\/vision\/x\.ts:3: \[layer\] src\/vision may not import src\/daemon/,
  );
  assert.match(
    out[1],
    /^src\/vision\/x\.ts:3: \[mod\] imports src\/daemon\/y\.ts past src\/daemon\/mod\.ts/,
  );
});

Deno.test("checkDeps: stages may not import each other; daemon and cli may, through mod.ts", () => {
  const rules = (from: string, to: string) =>
    checkDeps([{ from, line: 1, to }], []).map((v) => v.rule);
  assert.deepEqual(rules("src/ingest/a.ts", "src/graph/mod.ts"), ["layer"]);
  assert.deepEqual(rules("src/sink/a.ts", "src/vision/mod.ts"), ["layer"]);
  assert.deepEqual(rules("src/shared/a.ts", "src/log/mod.ts"), ["layer"]);
  assert.deepEqual(rules("src/daemon/a.ts", "src/cli/mod.ts"), ["layer"]);
  assert.deepEqual(rules("src/daemon/a.ts", "src/vision/mod.ts"), []);
  assert.deepEqual(rules("src/cli/a.ts", "src/daemon/mod.ts"), []);
  assert.deepEqual(rules("src/vision/a.ts", "src/shared/mod.ts"), []);
  assert.deepEqual(rules("src/vision/a.ts", "src/vision/b/c.ts"), []);
  assert.deepEqual(rules("src/cli/a.ts", "src/daemon/engine.ts"), ["mod"]);
  assert.deepEqual(rules("src/new/a.ts", "src/log/mod.ts"), ["layer"]);
  assert.deepEqual(rules("src/graph/a.ts", "npm:postgres@3.4.9"), [
    "postgres",
  ]);
  assert.deepEqual(rules("src/sink/a.ts", "npm:postgres@3.4.9"), []);
  assert.deepEqual(rules("test/a.ts", "src/daemon/engine.ts"), []);
});

Deno.test("checkDeps: ffmpeg outside ingest, and the databases outside their owners", () => {
  const out = lines([], [
    {
      path: "src/cli/z.ts",
      text: 'const c = new Deno.Command("ffmpeg", { args: [] });\n',
    },
    {
      path: "src/daemon/w.ts",
      text:
        'const name = "ffprobe";\n\nawait new Deno.Command(name).output();\n',
    },
    {
      path: "src/ingest/ok.ts",
      text: 'new Deno.Command("ffmpeg");\n',
    },
    {
      path: "src/vision/db.ts",
      text: [
        "/**",
        " * Reads pipeline.db (a comment, not code).",
        " */",
        "// outbox.db",
        'const p = join(dir, "pipeline.db");',
        'const o = join(dir, "outbox.db");',
        'const db = new DatabaseSync(":memory:");',
      ].join("\n"),
    },
    { path: "src/graph/ok.ts", text: 'new DatabaseSync("pipeline.db");\n' },
    { path: "src/sink/ok.ts", text: 'new DatabaseSync("outbox.db");\n' },
    // The data-dir layout names both files (it opens neither); another
    // shared file may not.
    {
      path: "src/shared/data_layout.ts",
      text: 'const a = "pipeline.db";\nconst b = "outbox.db";\n',
    },
    { path: "src/shared/other.ts", text: 'const a = "pipeline.db";\n' },
  ]);
  assert.deepEqual(out.map((l) => l.split(" ").slice(0, 2).join(" ")), [
    "src/cli/z.ts:1: [ffmpeg]",
    "src/daemon/w.ts:3: [ffmpeg]",
    "src/shared/other.ts:1: [pipeline-db]",
    "src/vision/db.ts:5: [pipeline-db]",
    "src/vision/db.ts:6: [outbox-db]",
    "src/vision/db.ts:7: [sqlite-open]",
  ]);
});

Deno.test("applyAllowed: a named exception passes, anything new fails, unused ones are stale", () => {
  const found = checkDeps([
    { from: "src/vision/x.ts", line: 1, to: "src/ingest/ppm.ts" },
    { from: "src/vision/y.ts", line: 1, to: "src/ingest/ppm.ts" },
  ], []);
  const { failures, excused, stale } = applyAllowed(found, [
    {
      rule: "layer",
      file: "src/vision/x.ts",
      target: "src/ingest/ppm.ts",
      reason: "r",
    },
    { rule: "mod", file: "src/vision/x.ts", reason: "r" },
    { rule: "ffmpeg", file: "src/cli/gone.ts", reason: "r" },
  ]);
  assert.deepEqual(
    failures.map((v) => `${v.file} ${v.rule}`),
    ["src/vision/y.ts layer", "src/vision/y.ts mod"],
  );
  assert.equal(excused.length, 2);
  assert.deepEqual(stale.map((x) => x.file), ["src/cli/gone.ts"]);
  for (const x of ALLOWED) assert.ok(x.reason.length > 20, x.file);
});

Deno.test("lint:deps exits 1 on a tree with a forbidden import and ffmpeg spawned by cli", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lint_deps_" });
  try {
    const write = async (path: string, text: string) => {
      await Deno.mkdir(join(dir, path, ".."), { recursive: true });
      await Deno.writeTextFile(join(dir, path), text);
    };
    await write("deno.json", "{}\n");
    await write("main.ts", 'import "./src/cli/z.ts";\n');
    await write("src/daemon/y.ts", "export const y = 1;\n");
    await write("src/daemon/mod.ts", 'export * from "./y.ts";\n');
    await write(
      "src/vision/x.ts",
      '// a vision file\nimport { y } from "../daemon/y.ts";\nexport const x = y;\n',
    );
    await write(
      "src/cli/z.ts",
      'import { y } from "../daemon/mod.ts";\nexport const z = () => new Deno.Command("ffmpeg", { args: [String(y)] });\n',
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-run", "--allow-env", SCRIPT],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 1, err);
    const found = err.split("\n").filter((l) => /^src\//.test(l));
    assert.deepEqual(found.map((l) => l.split(" ").slice(0, 2).join(" ")), [
      "src/cli/z.ts:2: [ffmpeg]",
      "src/vision/x.ts:2: [layer]",
      "src/vision/x.ts:2: [mod]",
    ]);
    assert.match(err, /3 violation\(s\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("today's tree has no violation beyond the named exceptions, and none is stale", async () => {
  const { edges, files } = await loadTree(ROOT.replace(/\/$/, ""));
  assert.ok(files.some((f) => f.path === "src/daemon/stage_worker.ts"));
  assert.ok(
    edges.some((e) => e.from === "src/daemon/stage_worker.ts"),
    "worker entry points are roots too",
  );
  const { failures, stale } = applyAllowed(checkDeps(edges, files));
  assert.deepEqual(failures.map(formatViolation), []);
  assert.deepEqual(stale, []);
});
