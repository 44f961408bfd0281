import assert from "node:assert/strict";
import {
  AARCH64_DENO,
  cpuCacheHiding,
  ensureAarch64Deno,
} from "./aarch64_deno.ts";

/** A stand-in for npm: `pack SPEC --pack-destination DIR` runs `body`. */
async function fakeNpm(dir: string, body: string): Promise<string> {
  const path = `${dir}/npm`;
  await Deno.writeTextFile(path, `#!/bin/sh\ndest="$4"\n${body}\n`);
  await Deno.chmod(path, 0o755);
  return path;
}

async function entries(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

Deno.test("`ensureAarch64Deno()` refuses a tarball that is not the pinned one and leaves nothing behind", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    // A well-formed package whose `deno` is not the release's binary.
    const npm = await fakeNpm(
      tmp,
      [
        'mkdir -p "$dest/package"',
        'echo "not deno" > "$dest/package/deno"',
        'tar -czf "$dest/deno.tgz" -C "$dest" package',
        'rm -r "$dest/package"',
        "echo deno.tgz",
      ].join("\n"),
    );
    await assert.rejects(
      ensureAarch64Deno(`${tmp}/cache`, { npm }),
      (error: Error) => {
        assert.match(
          error.message,
          /^Cannot use @deno\/linux-arm64-glibc@2\.9\.6: the tarball's integrity is sha512-\S+, expected sha512-/,
        );
        assert.ok(error.message.includes(AARCH64_DENO.integrity));
        assert.ok(!error.message.includes("\n"));
        return true;
      },
    );
    assert.deepEqual(await entries(`${tmp}/cache/deno-2.9.6`), []);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("`ensureAarch64Deno()` says in one line why npm pack failed", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const npm = await fakeNpm(
      tmp,
      'echo "npm error code E404" >&2\necho "npm error 404 Not Found" >&2\nexit 1',
    );
    await assert.rejects(
      ensureAarch64Deno(`${tmp}/cache`, { npm }),
      new Error(
        "Cannot fetch @deno/linux-arm64-glibc@2.9.6: npm pack failed: npm error code E404",
      ),
    );
    assert.deepEqual(await entries(`${tmp}/cache/deno-2.9.6`), []);

    await assert.rejects(
      ensureAarch64Deno(`${tmp}/cache`, { npm: `${tmp}/no-such-npm` }),
      /^Error: Cannot fetch @deno\/linux-arm64-glibc@2\.9\.6: cannot run '.*no-such-npm' \(.*\); install Node\.js and npm$/,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("`ensureAarch64Deno()` replaces a cached binary that is not the pinned one", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${tmp}/cache/deno-2.9.6`, { recursive: true });
    await Deno.writeTextFile(`${tmp}/cache/deno-2.9.6/deno`, "truncated");
    let packed = false;
    const npm = await fakeNpm(tmp, `touch "${tmp}/packed"\nexit 1`);
    await assert.rejects(ensureAarch64Deno(`${tmp}/cache`, { npm }));
    try {
      await Deno.stat(`${tmp}/packed`);
      packed = true;
    } catch {
      packed = false;
    }
    assert.ok(packed, "a damaged cached binary must be fetched again");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("`cpuCacheHiding()` runs a program that sees no CPU cache entries in sysfs, with its arguments, and leaves the host's alone", async () => {
  const caches = "/sys/devices/system/cpu/cpu0/cache";
  const host = await entries(caches).catch(() => []);
  const hiding = await cpuCacheHiding();
  // The aarch64 check needs it (root, or user namespaces, as on CI).
  assert.ok(hiding.prefix.length > 0, hiding.note ?? "no prefix");
  const [program, ...args] = hiding.prefix;
  const out = await new Deno.Command(program, {
    args: [
      ...args,
      "sh",
      "-c",
      'echo "$1"; ls -A "$2" | wc -l',
      "probe",
      "an argument",
      caches,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.deepEqual(
    new TextDecoder().decode(out.stdout).trim().split("\n"),
    ["an argument", "0"],
  );
  // The host's entries (none on some virtual machines) are still there.
  assert.deepEqual(await entries(caches).catch(() => []), host);
});
