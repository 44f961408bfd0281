/**
 * Acceptance of issue 10 items 1-2 through the real CLI: `models install
 * --mirror` from a loopback mirror holding only upstream files, run from
 * another working directory and through an HTTP proxy, makes a models folder
 * with which `process` gives the same events as with `../shared/models`; an
 * interrupted install resumes with a Range request on the next run; a
 * blocked host gives one line per file and exit 1.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DASHCAM_FLAGS, MAIN, runDashcam } from "../support/cli.ts";
import { loadManifest } from "../../src/vision/model_store.ts";
import { selectModels } from "../../src/vision/model_manifest.ts";
import {
  startModelMirror,
  startProxy,
  upstreamFiles,
} from "../support/model_mirror.ts";
import { SHARED_MEDIA, SHARED_MODELS, TEST_MODELS } from "../support/shared.ts";

const manifest = await loadManifest();
const dec = new TextDecoder();

/** Runs the CLI in `cwd` with extra env; returns code and output. */
async function dashcamIn(
  cwd: string,
  args: string[],
  env: Record<string, string> = {},
) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...DASHCAM_FLAGS, MAIN, ...args],
    cwd,
    env: { XDG_RUNTIME_DIR: "/tmp", ...env },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

/**
 * The clip's final events without what differs between runs: which frames
 * of a settled track get OCR depends on how far the OCR of the frames before
 * has got (`online_tracks.ts`), so the best read's frame, boxes, time and
 * confidence may come from a neighbouring frame; the vehicle, its plate and
 * its key do not.
 */
async function events(modelsDir: string, dataDir: string): Promise<unknown[]> {
  const clip = `${SHARED_MEDIA}/clips/nl_tudelft/Video10_2.avi`;
  const out = await runDashcam([
    "process",
    "--json",
    "--models-dir",
    modelsDir,
    "--data-dir",
    dataDir,
    "--log-level",
    "warn",
    clip,
  ]);
  assert.equal(out.code, 0, out.stderr);
  return out.stdout.trim().split("\n").filter((l) => l).map((l) => {
    const event = JSON.parse(l);
    for (
      const key of [
        "evidence",
        "createdAt",
        "frameIdx",
        "ts",
        "localTime",
        "clipTimeS",
        "carBbox",
        "plateBbox",
        "plateConfidence",
      ]
    ) delete event[key];
    return event;
  });
}

Deno.test("models install --mirror (only upstream files, through HTTP_PROXY, from another cwd) gives the same events as the tests' install from ../shared/models", async () => {
  const root = await Deno.makeTempDir({ prefix: "models_install_" });
  const mirror = await startModelMirror(upstreamFiles(manifest));
  const proxy = startProxy();
  try {
    // Nothing derived is on the mirror.
    for (const m of manifest.models.filter((m) => m.derive)) {
      assert.ok(!mirror.requests.length);
      const found = new Deno.Command("find", {
        args: [mirror.root, "-name", m.file],
      }).outputSync();
      assert.equal(dec.decode(found.stdout), "");
    }
    const install = await dashcamIn(
      root,
      ["models", "install", "--mirror", mirror.base, "--models-dir", "models"],
      { HTTP_PROXY: proxy.url, NO_PROXY: "" },
    );
    assert.equal(install.code, 0, install.stderr);
    assert.match(
      install.stdout,
      /^derived {3}yolox_nano_vehicles_dynamic\.onnx$/m,
    );
    assert.match(
      install.stdout,
      /^derived {3}yolo-v9-t-416-license-plates-end2end-fp32-dynamic\.onnx$/m,
    );
    assert.ok(mirror.requests.length > 0);
    assert.ok(mirror.requests.every((r) => r.proxied), "all through the proxy");
    const models = join(root, "models");
    const defaults = selectModels(manifest, "default").flatMap((m) => [
      m.file,
      ...m.extraFiles.map((f) => f.file),
    ]);
    const installed = await listDir(models);
    for (const file of defaults) assert.ok(installed.includes(file), file);
    assert.ok(
      !installed.some((f) => f.endsWith(".part") || f.endsWith(".tmp")),
    );
    for (const m of manifest.models.filter((m) => m.derive && m.default)) {
      assert.deepEqual(
        await Deno.readFile(join(models, m.file)),
        await Deno.readFile(join(TEST_MODELS, m.file)),
      );
    }
    const check = await dashcamIn(root, [
      "models",
      "check",
      "--models-dir",
      "models",
    ]);
    assert.equal(check.code, 0, check.stdout);

    const mine = await events(models, join(root, "data1"));
    const shared = await events(TEST_MODELS, join(root, "data2"));
    assert.ok(mine.length > 0);
    assert.deepEqual(mine, shared);
  } finally {
    await proxy.close();
    await mirror.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("an install interrupted mid-file resumes with a Range request on the next run and verifies", async () => {
  const root = await Deno.makeTempDir({ prefix: "models_resume_" });
  const mirror = await startModelMirror(upstreamFiles(manifest));
  try {
    const models = join(root, "models");
    const file = "cct_xs_v2_global.onnx";
    mirror.cutAfter(file, 1_000_000, { hang: true });
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...DASHCAM_FLAGS,
        MAIN,
        "models",
        "install",
        "--mirror",
        mirror.base,
        "--models-dir",
        models,
      ],
      stdout: "null",
      stderr: "null",
      stdin: "null",
    }).spawn();
    // Wait (bounded) until the first megabyte is in the .part file, then pull the plug.
    const part = join(models, `${file}.part`);
    let size = 0;
    for (let i = 0; i < 600 && size < 1_000_000; i++) {
      size = await Deno.stat(part).then((s) => s.size, () => 0);
      if (size < 1_000_000) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(size, 1_000_000);
    child.kill("SIGKILL");
    await child.status;
    assert.ok(!(await listDir(models)).includes(file));

    const again = await runDashcam([
      "models",
      "install",
      "--mirror",
      mirror.base,
      "--models-dir",
      models,
    ]);
    assert.equal(again.code, 0, again.stderr);
    const ranges = mirror.requests.filter((r) => r.path.endsWith(`/${file}`))
      .map((r) => r.range);
    assert.deepEqual(ranges, [null, "bytes=1000000-"]);
    assert.ok(!(await listDir(models)).some((f) => f.endsWith(".part")));
    assert.deepEqual(
      await Deno.readFile(join(models, file)),
      await Deno.readFile(join(SHARED_MODELS, file)),
    );
  } finally {
    await mirror.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("models install with a blocked host: one line per file naming the URL, exit 1, nothing left behind", async () => {
  const root = await Deno.makeTempDir({ prefix: "models_blocked_" });
  try {
    const mirror = await startModelMirror([]);
    const blocked = mirror.base;
    await mirror.close();
    const models = join(root, "models");
    const out = await runDashcam(
      ["models", "install", "--retries", "0", "--models-dir", models],
      {
        env: { DASHCAM_MODELS_MIRROR: blocked },
      },
    );
    assert.equal(out.code, 1);
    const lines = out.stderr.trim().split("\n");
    const wanted = upstreamFiles({
      ...manifest,
      models: selectModels(manifest, "default").map((m) =>
        m.derive ? manifest.models.find((u) => u.file === m.derive!.from)! : m
      ),
    });
    assert.equal(lines.length, wanted.length, out.stderr);
    wanted.forEach((f, i) => {
      assert.ok(
        lines[i].startsWith(
          `Cannot download ${f.file} from ${blocked}${
            new URL(f.url!).pathname
          }: `,
        ),
        lines[i],
      );
    });
    assert.deepEqual(await listDir(models), []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
