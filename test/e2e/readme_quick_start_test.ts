/**
 * README acceptance: the set-up and main-job commands of README.md's
 * "Quick start" section, taken from its fenced `sh` blocks (so the README
 * cannot drift), run in a fresh `git clone` of this repository and print
 * events.
 *
 * Nothing leaves the machine: `node_modules` is hard-linked from this
 * checkout, npm's registry points at a closed port, `sudo`, `apt-get` and
 * `npm` are stand-ins that fail (the set-up must find ffmpeg and Deno already
 * there and install nothing from outside), and a local HTTP mirror on
 * 127.0.0.1 serves the demo clip and the models at their upstream URL paths
 * (`DASHCAM_MODELS_MIRROR`). The models are served from `../shared/models`;
 * with a `models/models.json` whose entries carry no `url` yet, the set-up
 * takes them with `DASHCAM_MODELS_FROM` instead (its `--models-from` option).
 * The clone is of the committed HEAD.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DEMO_CLIP } from "../../src/ingest/demo_clip.ts";
import { githubPath, serveMirror } from "../support/http_mirror.ts";
import { SHARED_MEDIA, SHARED_MODELS } from "../support/shared.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** The fenced `sh` blocks of README.md's "Quick start" section. */
export function quickStartBlocks(readme: string): string[] {
  const start = readme.search(/^## Quick start/m);
  assert.ok(start >= 0, "README.md has no '## Quick start' section");
  const rest = readme.slice(start + 1);
  const end = rest.search(/^## /m);
  const section = end < 0 ? rest : rest.slice(0, end);
  return [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) =>
    m[1].trim()
  );
}

async function run(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: options.cwd,
    env: options.env,
    clearEnv: options.env !== undefined,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

/** Files of models.json that have an upstream `url`: path on the mirror -> file in shared/models. */
function upstreamRoutes(manifest: unknown): Record<string, string> {
  const routes: Record<string, string> = {};
  const visit = (entry: { file?: string; url?: string }) => {
    if (entry.url && entry.file) {
      routes[githubPath(entry.url)] = join(SHARED_MODELS, entry.file);
    }
  };
  const models =
    (manifest as { models: Array<Record<string, unknown>> }).models;
  for (const m of models) {
    visit(m as { file?: string; url?: string });
    for (
      const x of (m.extraFiles as Array<{ file?: string; url?: string }>) ?? []
    ) {
      visit(x);
    }
  }
  return routes;
}

Deno.test("README quick start: the set-up and main-job blocks, run in a fresh clone, print events", async () => {
  const readme = await Deno.readTextFile(join(ROOT, "README.md"));
  const blocks = quickStartBlocks(readme);
  const setup = blocks[0];
  assert.ok(
    setup && /setup/.test(setup),
    `first block is not the set-up: ${setup}`,
  );
  const demo = blocks.find((b) => /^deno task dashcam demo\b/m.test(b));
  const process = blocks.find((b) => /^deno task dashcam process\b/m.test(b));
  assert.ok(demo, "no `deno task dashcam demo` block in the quick start");
  assert.ok(process, "no `deno task dashcam process` block in the quick start");
  assert.match(process, /path\/to\/clip\.mp4/);

  const tmp = await Deno.makeTempDir({ prefix: "readme_test_" });
  try {
    const repo = join(tmp, "repo");
    const clone = await run("git", ["clone", "-q", ROOT, repo]);
    assert.equal(clone.code, 0, clone.stderr);
    let copy = await run("cp", ["-al", join(ROOT, "node_modules"), repo]);
    if (copy.code !== 0) {
      copy = await run("cp", ["-a", join(ROOT, "node_modules"), repo]);
    }
    assert.equal(copy.code, 0, copy.stderr);

    // Stand-ins that must not be called: ffmpeg and Deno are already here.
    const bin = join(tmp, "bin");
    const calls = join(tmp, "outside_calls.log");
    await Deno.mkdir(bin);
    for (const name of ["sudo", "apt-get", "npm"]) {
      await Deno.writeTextFile(
        join(bin, name),
        `#!/bin/sh\necho "${name} $*" >> '${calls}'\nexit 1\n`,
      );
      await Deno.chmod(join(bin, name), 0o755);
    }

    const manifest = JSON.parse(
      await Deno.readTextFile(join(repo, "models/models.json")),
    );
    const modelRoutes = upstreamRoutes(manifest);
    const mirrorModels = Object.keys(modelRoutes).length > 0;
    await using mirror = serveMirror({
      ...modelRoutes,
      [githubPath(DEMO_CLIP.url)]: join(
        SHARED_MEDIA,
        "clips/uk_roundabout_approach.mp4",
      ),
    });
    const env: Record<string, string> = {
      PATH: `${bin}:${Deno.env.get("PATH")}`,
      HOME: Deno.env.get("HOME") ?? tmp,
      DENO_NO_UPDATE_CHECK: "1",
      NO_COLOR: "1",
      NPM_CONFIG_REGISTRY: "http://127.0.0.1:9/",
      XDG_RUNTIME_DIR: "/tmp",
      DASHCAM_MODELS_MIRROR: mirror.base,
    };
    for (const k of ["DENO_DIR", "LANG"]) {
      const v = Deno.env.get(k);
      if (v !== undefined) env[k] = v;
    }
    if (!mirrorModels) env.DASHCAM_MODELS_FROM = SHARED_MODELS;

    const bash = (script: string) =>
      run("bash", ["-euo", "pipefail", "-c", script], { cwd: repo, env });

    const set = await bash(setup);
    assert.equal(set.code, 0, `${setup}\n${set.stdout}\n${set.stderr}`);
    await assert.rejects(Deno.stat(calls), Deno.errors.NotFound);
    if (mirrorModels) {
      assert.ok(
        mirror.requests.some((p) => p in modelRoutes),
        `no model was fetched from the mirror: ${mirror.requests}`,
      );
    }

    const demoOut = await bash(demo);
    assert.equal(
      demoOut.code,
      0,
      `${demo}\n${demoOut.stdout}\n${demoOut.stderr}`,
    );
    assert.match(demoOut.stdout, /LS15EBC/);
    assert.ok(mirror.requests.includes(githubPath(DEMO_CLIP.url)));

    const clip = join(SHARED_MEDIA, "clips/nl_tudelft/Video10_2.avi");
    const own = process.replaceAll("path/to/clip.mp4", `'${clip}'`);
    const processOut = await bash(own);
    assert.equal(
      processOut.code,
      0,
      `${own}\n${processOut.stdout}\n${processOut.stderr}`,
    );
    assert.match(processOut.stdout, /XSNB23/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
