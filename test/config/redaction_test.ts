/**
 * No password in any output, whatever shape the operator gave the URL in:
 * `pg` as a string instead of an object, a typo in the scheme, no scheme.
 * Runs the real CLI, which loads the config and connects (no server needed:
 * every variant fails before or at connect).
 */
import assert from "node:assert/strict";
import { runDashcam } from "../support/cli.ts";

const SECRET = "Pa55-w0rd-9z";

async function withConfig(
  body: unknown,
  fn: (path: string, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "redaction_" });
  try {
    const path = `${dir}/dashcam.json`;
    await Deno.writeTextFile(
      path,
      JSON.stringify({ data_dir: `${dir}/data`, ...body as object }),
    );
    await fn(path, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function assertNoSecret(out: { stdout: string; stderr: string }): void {
  assert.ok(!out.stdout.includes(SECRET), out.stdout);
  assert.ok(!out.stderr.includes(SECRET), out.stderr);
}

Deno.test("`pg` given as a string: the config error hides the password", async () => {
  await withConfig(
    { pg: `postgres://dashcam:${SECRET}@127.0.0.1:1/fleet` },
    async (path) => {
      const out = await runDashcam(["sync", "--once", "--config", path]);
      assert.equal(out.code, 78, out.stderr);
      assert.match(
        out.stderr,
        /Invalid config 'pg': expected an object, got "postgres:\/\/dashcam:\*\*\*@127\.0\.0\.1:1\/fleet"/,
      );
      assertNoSecret(out);
    },
  );
});

Deno.test("a URL with a typo'd or missing scheme: the error hides the password", async () => {
  const variants = [
    `postgres//dashcam:${SECRET}@127.0.0.1:1/fleet`,
    `postgress://dashcam:${SECRET}@127.0.0.1:1/fleet`,
    `postgress:dashcam:${SECRET}@127.0.0.1:1/fleet`,
    `dashcam:${SECRET}@127.0.0.1:1/fleet`,
    `http://dashcam:${SECRET}@127.0.0.1:1/fleet`,
  ];
  await withConfig({}, async (path) => {
    for (const url of variants) {
      for (const via of ["flag", "env", "file"] as const) {
        let out;
        if (via === "flag") {
          out = await runDashcam([
            "sync",
            "--once",
            "--config",
            path,
            "--pg-url",
            url,
            "--log-level",
            "debug",
          ]);
        } else if (via === "env") {
          out = await runDashcam(
            ["sync", "--once", "--config", path, "--log-level", "debug"],
            { env: { DASHCAM_PG_URL: url } },
          );
        } else {
          const file = path.replace(/\.json$/, "_file.json");
          const cfg = JSON.parse(await Deno.readTextFile(path));
          await Deno.writeTextFile(
            file,
            JSON.stringify({ ...cfg, pg: { url } }),
          );
          out = await runDashcam([
            "sync",
            "--once",
            "--config",
            file,
            "--log-level",
            "debug",
          ]);
        }
        assert.notEqual(out.code, 0, `${via} ${url}`);
        assert.match(out.stderr, /pg\.url/, `${via} ${url}: ${out.stderr}`);
        assert.match(out.stderr, /\*\*\*@127\.0\.0\.1:1/, `${via} ${url}`);
        assertNoSecret(out);
      }
    }
  });
});
