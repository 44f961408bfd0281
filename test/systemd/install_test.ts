/**
 * `systemd/install.sh` into a temp root (`DESTDIR`): the expected files,
 * owners and modes, the models installed before the unit is enabled, and
 * `systemd-analyze verify --root` on the result. Owners are checked when the
 * test runs as root (CI); otherwise the script cannot chown and only modes
 * are checked.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../src/config/mod.ts";
import { checkModels, loadManifest } from "../../src/vision/model_store.ts";
import { TEST_MODELS } from "../support/shared.ts";

const REPO = new URL("../../", import.meta.url).pathname;
const SCRIPT = join(REPO, "systemd/install.sh");
const ROOT_USER = Deno.uid() === 0;

async function run(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; output: string }> {
  const out = await new Deno.Command(cmd, {
    args,
    env: { NO_COLOR: "1", SYSTEMD_LOG_COLOR: "0", SYSTEMD_PAGER: "", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    output: (dec.decode(out.stdout) + dec.decode(out.stderr)).trim(),
  };
}

async function withRoot(fn: (tmp: string, root: string) => Promise<void>) {
  const tmp = await Deno.makeTempDir({ prefix: "install_test_" });
  try {
    const binary = join(tmp, "dashcam-stand-in");
    await Deno.writeTextFile(binary, "#!/bin/sh\nexit 0\n");
    await fn(tmp, join(tmp, "root"));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

function install(tmp: string, root: string, extra: string[] = []) {
  return run(SCRIPT, [
    "--binary",
    join(tmp, "dashcam-stand-in"),
    "--models-from",
    TEST_MODELS,
    ...extra,
  ], { DESTDIR: root });
}

function idOf(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name}:`));
  assert.ok(line, `no ${name} entry`);
  return Number(line.split(":")[2]);
}

Deno.test("install.sh into a temp root: files, owners and modes, models, enabled unit, systemd-analyze verify", async () => {
  await withRoot(async (tmp, root) => {
    const result = await install(tmp, root);
    assert.equal(result.code, 0, result.output);

    const passwd = await Deno.readTextFile(join(root, "etc/passwd"));
    const group = await Deno.readTextFile(join(root, "etc/group"));
    const uid = idOf(passwd, "dashcam");
    const gid = idOf(group, "dashcam");
    assert.ok(uid >= 100 && uid < 1000, `system uid, got ${uid}`);
    assert.match(
      passwd,
      new RegExp(
        `^dashcam:x:${uid}:${gid}:[^:]*:/var/lib/dashcam:/usr/sbin/nologin$`,
        "m",
      ),
    );

    const expect: Array<[string, number, number, number]> = [
      ["usr/local/bin/dashcam", 0o755, 0, 0],
      ["etc/dashcam", 0o750, 0, gid],
      ["etc/dashcam/dashcam.json", 0o640, 0, gid],
      ["etc/dashcam/pg-password", 0o600, 0, 0],
      ["var/lib/dashcam", 0o750, uid, gid],
      ["var/lib/dashcam/models", 0o750, uid, gid],
      ["etc/systemd/system/dashcam.service", 0o644, 0, 0],
      ["etc/systemd/system/dashcam-usb@.service", 0o644, 0, 0],
      ["etc/udev/rules.d/99-dashcam-usb.rules", 0o644, 0, 0],
      ["usr/local/share/doc/dashcam/systemd/README.md", 0o644, 0, 0],
    ];
    for (const [path, mode, owner, grp] of expect) {
      const info = await Deno.lstat(join(root, path));
      assert.equal(
        (info.mode! & 0o7777).toString(8),
        mode.toString(8),
        `mode of ${path}`,
      );
      if (ROOT_USER) {
        assert.deepEqual(
          [info.uid, info.gid],
          [owner, grp],
          `owner of ${path}`,
        );
      }
    }

    // The config is valid and points at the installed dirs.
    const { config } = await loadConfig({
      config: join(root, "etc/dashcam/dashcam.json"),
    }, { env: {} });
    assert.equal(config.data_dir, "/var/lib/dashcam");
    assert.equal(config.models_dir, "/var/lib/dashcam/models");

    // The models are in place, intact, readable by the service only.
    const modelsDir = join(root, "var/lib/dashcam/models");
    const report = await checkModels(await loadManifest(), { dir: modelsDir });
    assert.deepEqual([report.missing, report.corrupt], [[], []]);
    assert.ok(report.ok.length >= 3);
    for (const file of report.ok) {
      const info = await Deno.stat(join(modelsDir, file));
      assert.equal((info.mode! & 0o777).toString(8), "640", file);
      if (ROOT_USER) assert.deepEqual([info.uid, info.gid], [uid, gid], file);
    }

    // Enabled: WantedBy=multi-user.target.
    assert.equal(
      await Deno.readLink(
        join(
          root,
          "etc/systemd/system/multi-user.target.wants/dashcam.service",
        ),
      ),
      "/etc/systemd/system/dashcam.service",
    );

    // systemd-analyze verify inside the root (it needs the system's own
    // units there, and finds ExecStart=/usr/local/bin/dashcam in the root).
    // The USB unit runs the system's mount tools, which the root lacks: it
    // is verified against the host by units_test.ts.
    await Deno.mkdir(join(root, "usr/lib/systemd"), { recursive: true });
    const copy = await run("cp", [
      "-r",
      "/usr/lib/systemd/system",
      join(root, "usr/lib/systemd/"),
    ]);
    assert.equal(copy.code, 0, copy.output);
    const verify = await run("systemd-analyze", [
      "verify",
      "--man=no",
      `--root=${root}`,
      join(root, "etc/systemd/system/dashcam.service"),
    ]);
    assert.deepEqual(verify, { code: 0, output: "" });
    // The check can fail: without the binary, verify reports it.
    await Deno.remove(join(root, "usr/local/bin/dashcam"));
    const broken = await run("systemd-analyze", [
      "verify",
      "--man=no",
      `--root=${root}`,
      join(root, "etc/systemd/system/dashcam.service"),
    ]);
    assert.match(broken.output, /\/usr\/local\/bin\/dashcam is not executable/);
  });
});

Deno.test("install.sh run again keeps the operator's config and adds no second user", async () => {
  await withRoot(async (tmp, root) => {
    assert.equal((await install(tmp, root)).code, 0);
    const configPath = join(root, "etc/dashcam/dashcam.json");
    const edited =
      `{ "data_dir": "/var/lib/dashcam", "models_dir": "/var/lib/dashcam/models", "inbox_dirs": ["/media/sdcard/DCIM"] }\n`;
    await Deno.writeTextFile(configPath, edited);
    await Deno.writeTextFile(join(root, "etc/dashcam/pg-password"), "pw\n");
    const again = await install(tmp, root);
    assert.equal(again.code, 0, again.output);
    assert.equal(await Deno.readTextFile(configPath), edited);
    assert.equal(
      await Deno.readTextFile(join(root, "etc/dashcam/pg-password")),
      "pw\n",
    );
    const passwd = await Deno.readTextFile(join(root, "etc/passwd"));
    assert.equal(
      passwd.split("\n").filter((l) => l.startsWith("dashcam:")).length,
      1,
    );
    const group = await Deno.readTextFile(join(root, "etc/group"));
    assert.equal(
      group.split("\n").filter((l) => l.startsWith("dashcam:")).length,
      1,
    );
  });
});

Deno.test("install.sh without the models does not enable the unit", async () => {
  await withRoot(async (tmp, root) => {
    const empty = join(tmp, "no-models");
    await Deno.mkdir(empty);
    const result = await run(SCRIPT, [
      "--binary",
      join(tmp, "dashcam-stand-in"),
      "--models-from",
      empty,
    ], { DESTDIR: root });
    assert.notEqual(result.code, 0, result.output);
    assert.match(result.output, /service is not enabled/);
    await assert.rejects(
      Deno.lstat(
        join(
          root,
          "etc/systemd/system/multi-user.target.wants/dashcam.service",
        ),
      ),
      Deno.errors.NotFound,
    );
  });
});

Deno.test("install.sh says what to install when given neither --binary nor --source", async () => {
  await withRoot(async (_tmp, root) => {
    const result = await run(SCRIPT, [], { DESTDIR: root });
    assert.equal(result.code, 1);
    assert.match(result.output, /--binary FILE .* or --source/);
  });
});
