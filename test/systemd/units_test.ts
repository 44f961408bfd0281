/**
 * Checks the systemd units: `systemd-analyze verify` (Debian package
 * `systemd`; .ci/run installs it) and the hardening lines.
 *
 * `systemd-analyze verify` fails when an `ExecStart=` binary is missing, and
 * `/usr/local/bin/dashcam` (the compiled binary) does not exist on a build
 * machine: the test verifies a copy of the unit whose `ExecStart=` path is
 * replaced by a stand-in shell script in the temp folder. Nothing else is
 * changed, and any output of `systemd-analyze verify` fails the test.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { EX_CONFIG } from "../../src/daemon/preflight.ts";

const UNITS = new URL("../../systemd/", import.meta.url);
const MAIN = "dashcam.service";
const USB = "dashcam-usb@.service";
const RULES = "99-dashcam-usb.rules";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "units_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function readUnitText(name: string): Promise<string> {
  return Deno.readTextFile(new URL(name, UNITS));
}

/** A unit file as `section -> key -> values` (repeated keys keep all values). */
type Unit = Map<string, Map<string, string[]>>;

/** Parses a unit file: sections, `Key=Value` lines, comments. No line continuations. */
function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = new Map();
      unit.set(header[1], section);
      continue;
    }
    assert.ok(section, `line outside a section: ${line}`);
    assert.ok(!line.endsWith("\\"), `line continuation not expected: ${line}`);
    const at = line.indexOf("=");
    assert.ok(at > 0, `not Key=Value: ${line}`);
    const key = line.slice(0, at).trim();
    const value = line.slice(at + 1).trim();
    section.set(key, [...(section.get(key) ?? []), value]);
  }
  return unit;
}

function values(unit: Unit, section: string, key: string): string[] {
  return unit.get(section)?.get(key) ?? [];
}

/** Runs `systemd-analyze verify` on unit files; returns its exit code and all output. */
async function verify(
  paths: string[],
): Promise<{ code: number; output: string }> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("systemd-analyze", {
      args: ["verify", "--man=no", ...paths],
      stdout: "piped",
      stderr: "piped",
      env: { SYSTEMD_LOG_COLOR: "0", SYSTEMD_PAGER: "" },
    }).output();
  } catch (err) {
    throw new Error(
      `Cannot run systemd-analyze (apt-get install -y systemd): ${
        (err as Error).message
      }`,
    );
  }
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return {
    code: out.code,
    output: (decode(out.stdout) + decode(out.stderr)).trim(),
  };
}

/** Copies the units to `dir`, with `ExecStart=` of the daemon on a stand-in. */
async function stageUnits(dir: string, extra = ""): Promise<string[]> {
  const standIn = join(dir, "dashcam-stand-in");
  await Deno.writeTextFile(standIn, "#!/bin/sh\nexit 0\n");
  await Deno.chmod(standIn, 0o755);
  const main = await readUnitText(MAIN);
  const original = "ExecStart=/usr/local/bin/dashcam run";
  assert.ok(main.includes(original), `${MAIN} must have ${original}`);
  await Deno.writeTextFile(
    join(dir, MAIN),
    main.replace(original, `ExecStart=${standIn} run`) + extra,
  );
  await Deno.writeTextFile(join(dir, USB), await readUnitText(USB));
  return [join(dir, MAIN), join(dir, USB)];
}

Deno.test("`systemd-analyze verify` passes on the units without any warning", async () => {
  await withTempDir(async (dir) => {
    const result = await verify(await stageUnits(dir));
    assert.deepEqual(result, { code: 0, output: "" });
  });
});

Deno.test("`systemd-analyze verify` reports a bad line (the check can fail)", async () => {
  await withTempDir(async (dir) => {
    const result = await verify(
      await stageUnits(dir, "\n[Service]\nProtectSystm=strict\n"),
    );
    assert.match(
      result.output,
      /Unknown key 'ProtectSystm' in section \[Service\]/,
    );
  });
});

Deno.test("`dashcam.service` starts as a notify service with watchdog, restart and credentials", async () => {
  const unit = parseUnit(await readUnitText(MAIN));
  const expect: [string, string, string[]][] = [
    ["Service", "Type", ["notify"]],
    ["Service", "NotifyAccess", ["all"]],
    ["Service", "ExecStart", ["/usr/local/bin/dashcam run"]],
    ["Service", "Environment", [
      "DASHCAM_CONFIG=/etc/dashcam/dashcam.json",
      "MALLOC_ARENA_MAX=2",
    ]],
    ["Service", "Restart", ["always"]],
    // Missing models/ffmpeg or a bad config: no restart loop.
    ["Service", "RestartPreventExitStatus", [String(EX_CONFIG)]],
    ["Service", "WatchdogSec", ["30"]],
    ["Service", "TimeoutStopSec", ["45"]],
    ["Service", "User", ["dashcam"]],
    ["Service", "Group", ["dashcam"]],
    ["Service", "StateDirectory", ["dashcam"]],
    ["Service", "LoadCredential", ["pg-password:/etc/dashcam/pg-password"]],
    ["Unit", "After", ["local-fs.target"]],
    ["Install", "WantedBy", ["multi-user.target"]],
  ];
  for (const [section, key, want] of expect) {
    assert.deepEqual(values(unit, section, key), want, `${section}.${key}`);
  }
  const deps = ["After", "Wants", "Requires", "BindsTo"].flatMap((k) =>
    values(unit, "Unit", k)
  ).join(" ");
  assert.doesNotMatch(deps, /network/, "the network must not be required");
});

Deno.test("`dashcam.service` has the sandboxing lines", async () => {
  const unit = parseUnit(await readUnitText(MAIN));
  const expect: [string, string[]][] = [
    ["ProtectSystem", ["strict"]],
    ["ReadWritePaths", ["/var/lib/dashcam"]],
    ["ReadOnlyPaths", ["-/media -/run/media -/mnt"]],
    ["NoNewPrivileges", ["yes"]],
    ["PrivateTmp", ["yes"]],
    ["ProtectHome", ["yes"]],
    ["PrivateDevices", ["yes"]],
    ["ProtectKernelTunables", ["yes"]],
    ["ProtectKernelModules", ["yes"]],
    ["ProtectControlGroups", ["yes"]],
    ["RestrictAddressFamilies", ["AF_UNIX AF_INET AF_INET6"]],
    ["LockPersonality", ["yes"]],
    ["SystemCallArchitectures", ["native"]],
    ["RestrictNamespaces", ["yes"]],
    ["RestrictSUIDSGID", ["yes"]],
    ["CapabilityBoundingSet", [""]],
    ["SystemCallFilter", ["@system-service @pkey", "~@privileged"]],
    ["SystemCallErrorNumber", ["EPERM"]],
  ];
  for (const [key, want] of expect) {
    assert.deepEqual(values(unit, "Service", key), want, key);
  }
  assert.deepEqual(
    values(unit, "Service", "MemoryDenyWriteExecute"),
    [],
    "MemoryDenyWriteExecute breaks V8's JIT",
  );
});

Deno.test("`dashcam-usb@.service` mounts read-only in the host namespace and unmounts", async () => {
  const unit = parseUnit(await readUnitText(USB));
  assert.deepEqual(values(unit, "Unit", "BindsTo"), ["dev-%i.device"]);
  assert.deepEqual(values(unit, "Unit", "After"), ["dev-%i.device"]);
  assert.deepEqual(values(unit, "Service", "Type"), ["oneshot"]);
  assert.deepEqual(values(unit, "Service", "RemainAfterExit"), ["yes"]);
  assert.deepEqual(values(unit, "Service", "ExecStop"), [
    "/usr/bin/umount --lazy /media/dashcam-usb/%i",
  ]);
  // Any of these makes a private mount namespace: the mount would be invisible.
  for (
    const key of [
      "ProtectSystem",
      "ProtectHome",
      "PrivateTmp",
      "PrivateDevices",
      "PrivateMounts",
      "ReadOnlyPaths",
      "ReadWritePaths",
      "ProtectKernelTunables",
      "ProtectControlGroups",
    ]
  ) {
    assert.deepEqual(values(unit, "Service", key), [], key);
  }
});

/** Runs the unit's mount command with stand-ins for blkid, id and mount. */
async function mountArgs(dir: string, fsType: string): Promise<string[]> {
  const unit = parseUnit(await readUnitText(USB));
  const [execStart] = values(unit, "Service", "ExecStart");
  const prefix = "/bin/sh -c '";
  assert.ok(execStart.startsWith(prefix) && execStart.endsWith("'"));
  // What systemd passes to sh: `$$` is a literal `$`, `%i` the instance.
  let script = execStart.slice(prefix.length, -1)
    .replaceAll("$$", "$")
    .replaceAll("%i", "sdb1");
  const stubs: Record<string, string> = {
    "/usr/sbin/blkid": 'test "$5" = /dev/sdb1 || exit 9\necho "$FS_TYPE"',
    "/usr/bin/id": 'case "$1" in -u) echo 991 ;; -g) echo 992 ;; esac',
    "/usr/bin/mount": "printf '%s\\n' \"$@\"",
  };
  for (const [real, body] of Object.entries(stubs)) {
    const stub = join(dir, real.slice(real.lastIndexOf("/") + 1));
    await Deno.writeTextFile(stub, `#!/bin/sh\n${body}\n`);
    await Deno.chmod(stub, 0o755);
    assert.ok(script.includes(real), `${real} in the mount command`);
    script = script.replaceAll(real, stub);
  }
  const out = await new Deno.Command("/bin/sh", {
    args: ["-c", script],
    env: { FS_TYPE: fsType },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim().split("\n");
}

Deno.test("`dashcam-usb@.service` gives FAT drives to the dashcam group, read-only", async () => {
  await withTempDir(async (dir) => {
    assert.deepEqual(await mountArgs(dir, "vfat"), [
      "-o",
      "ro,nosuid,nodev,noexec,uid=991,gid=992,fmask=0137,dmask=0027",
      "/dev/sdb1",
      "/media/dashcam-usb/sdb1",
    ]);
    assert.deepEqual(await mountArgs(dir, "ext4"), [
      "-o",
      "ro,nosuid,nodev,noexec",
      "/dev/sdb1",
      "/media/dashcam-usb/sdb1",
    ]);
  });
});

Deno.test("`99-dashcam-usb.rules` starts the mount unit for USB filesystems", async () => {
  const rules = (await Deno.readTextFile(new URL(RULES, UNITS)))
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.trim().startsWith("#"));
  assert.equal(rules.length, 1);
  const rule = rules[0].split(/,\s*/);
  for (
    const part of [
      'ACTION!="remove"',
      'SUBSYSTEM=="block"',
      'ENV{ID_BUS}=="usb"',
      'ENV{ID_FS_USAGE}=="filesystem"',
      'ENV{DEVTYPE}=="partition|disk"',
      'TAG+="systemd"',
      'ENV{SYSTEMD_WANTS}+="dashcam-usb@%k.service"',
    ]
  ) {
    assert.ok(rule.includes(part), `rule lacks ${part}`);
  }
});
