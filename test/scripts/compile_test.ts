/**
 * `deno task compile` builds without `DASHCAM_PG_HOSTS` (loopback only)
 * instead of failing on `--allow-net=,127.0.0.1`, and its arguments name
 * files that exist. `denort` cannot be downloaded here, so the end-to-end
 * check stops at `deno compile` looking for `DENORT_BIN`: the point where
 * every flag has been accepted.
 *
 * @module
 */
import assert from "node:assert/strict";
import { compileArgs, GITHUB_HOSTS, V8_FLAGS } from "../../scripts/compile.ts";
import { DASHCAM_ENV, DASHCAM_FLAGS } from "../support/cli.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

function allowNet(args: string[]): string[] {
  const flag = args.find((a) => a.startsWith("--allow-net="));
  assert.ok(flag, "no --allow-net");
  return flag.slice("--allow-net=".length).split(",");
}

Deno.test("compileArgs allows loopback and GitHub only when DASHCAM_PG_HOSTS is unset or empty", () => {
  for (const pgHosts of [undefined, "", " , "]) {
    const hosts = allowNet(compileArgs("x86_64", { pgHosts }));
    assert.deepEqual(hosts, [...GITHUB_HOSTS, "127.0.0.1"]);
    assert.ok(!hosts.includes(""));
  }
});

Deno.test("compileArgs adds the Postgres and model hosts given", () => {
  const args = compileArgs("aarch64", {
    pgHosts: "fleet.example:5432, 10.0.0.5:6432",
    modelsHosts: "models.fleet.example",
  });
  assert.deepEqual(allowNet(args), [
    "fleet.example:5432",
    "10.0.0.5:6432",
    "models.fleet.example",
    "127.0.0.1",
  ]);
  assert.ok(args.includes("aarch64-unknown-linux-gnu"));
  assert.ok(args.includes("dist/dashcam-aarch64"));
  assert.deepEqual(
    allowNet(compileArgs("x86_64", { modelsHosts: "" })),
    ["127.0.0.1"],
  );
});

Deno.test("every file the binary embeds exists", async () => {
  const args = compileArgs("x86_64");
  const includes = args.flatMap((a, i) =>
    args[i - 1] === "--include" ? [a] : []
  );
  assert.ok(includes.length >= 5);
  for (const path of [...includes, args[args.length - 1]]) {
    await Deno.stat(`${ROOT}${path}`);
  }
});

Deno.test("`deno task compile` without DASHCAM_PG_HOSTS gets past its flags (stops only for want of denort)", async () => {
  const env = { ...Deno.env.toObject(), DENORT_BIN: "/nonexistent/denort" };
  delete (env as Record<string, string | undefined>).DASHCAM_PG_HOSTS;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "compile"],
    cwd: ROOT,
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) +
    new TextDecoder().decode(out.stderr);
  assert.doesNotMatch(text, /invalid empty host/);
  assert.match(text, /Could not find denort at '\/nonexistent\/denort'/);
});

Deno.test("the binary, the dashcam task and the test CLI run with the same V8 flags, and the task and the test CLI with the same environment", async () => {
  assert.ok(compileArgs("x86_64").includes(V8_FLAGS));
  const tasks = (JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)) as {
    tasks: Record<string, string>;
  }).tasks;
  const env = Object.entries(DASHCAM_ENV).map(([k, v]) => `${k}=${v} `)
    .join("");
  assert.equal(
    tasks.dashcam,
    `${env}deno run ${DASHCAM_FLAGS.join(" ")} main.ts`,
  );
});
