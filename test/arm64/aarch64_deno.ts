/**
 * The aarch64 build of Deno, run under qemu's user-mode emulator, for the
 * aarch64 check (`deno task test:arm64`).
 *
 * Deno publishes each release's Linux aarch64 binary on npm as
 * `@deno/linux-arm64-glibc` (the `deno` npm package's optional dependency for
 * that platform). It is fetched with `npm pack` (so npm's registry and proxy
 * settings apply), checked against the integrity pinned below, and kept in a
 * cache folder.
 *
 * @module
 */

/** The pinned aarch64 Deno (same release as the project's `deno`). */
export const AARCH64_DENO = {
  /** npm package. */
  name: "@deno/linux-arm64-glibc",
  /** Release. */
  version: "2.9.6",
  /**
   * Subresource integrity of the package tarball, as the npm registry lists
   * it (`npm view @deno/linux-arm64-glibc@2.9.6 dist.integrity`).
   */
  integrity:
    "sha512-poqhoH9B3nYloigEMPT5t8HY+wBeiuea1An5Q7fqgJzP0SYmWsoS/oUnWO/pEiA4ofzIBy1Elt/in58xKtxEoQ==",
  /** sha256 of the `deno` binary inside it (`package/deno`). */
  sha256: "d08d392418df53f4e6e88a08909c0e1bccbf9adcead7232df72b6ad6075ec416",
} as const;

/** Options for {@linkcode ensureAarch64Deno}. */
export interface EnsureAarch64DenoOptions {
  /** npm executable. @default {"npm"} */
  npm?: string;
  /** Progress lines. @default {no output} */
  log?: (line: string) => void;
}

/**
 * The aarch64 `deno` binary in `cacheDir` (`deno-<version>/deno`), fetched
 * with `npm pack` when missing or not the pinned file. Nothing half-written
 * is left at the final path.
 *
 * @param cacheDir Folder for the binary (created when missing).
 * @param options npm executable and a progress callback.
 * @returns The binary's path.
 * @throws {Error} One line naming what failed (npm missing or failing, a
 * tarball or binary whose hash is not the pinned one).
 */
export async function ensureAarch64Deno(
  cacheDir: string,
  options: EnsureAarch64DenoOptions = {},
): Promise<string> {
  const { npm = "npm", log = () => {} } = options;
  const dir = `${cacheDir}/deno-${AARCH64_DENO.version}`;
  const target = `${dir}/deno`;
  if (await fileSha256(target) === AARCH64_DENO.sha256) return target;

  await Deno.mkdir(dir, { recursive: true });
  const tmp = await Deno.makeTempDir({ dir, prefix: ".fetch-" });
  try {
    const spec = `${AARCH64_DENO.name}@${AARCH64_DENO.version}`;
    log(`fetching ${spec} with npm pack`);
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command(npm, {
        args: ["pack", spec, "--pack-destination", tmp, "--silent"],
        stdout: "piped",
        stderr: "piped",
        stdin: "null",
      }).output();
    } catch (error) {
      throw new Error(
        `Cannot fetch ${spec}: cannot run '${npm}' (${
          firstLine(error)
        }); install Node.js and npm`,
      );
    }
    const tgzName = new TextDecoder().decode(out.stdout).trim().split("\n")
      .pop();
    if (!out.success || tgzName === undefined || tgzName === "") {
      throw new Error(
        `Cannot fetch ${spec}: npm pack failed: ${
          firstLine(new TextDecoder().decode(out.stderr)) || `exit ${out.code}`
        }`,
      );
    }
    const tgz = `${tmp}/${tgzName}`;
    const integrity = `sha512-${
      base64(await digest("SHA-512", await Deno.readFile(tgz)))
    }`;
    if (integrity !== AARCH64_DENO.integrity) {
      throw new Error(
        `Cannot use ${spec}: the tarball's integrity is ${integrity}, expected ${AARCH64_DENO.integrity}`,
      );
    }
    const tar = await new Deno.Command("tar", {
      args: ["-xzf", tgz, "-C", tmp, "package/deno"],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!tar.success) {
      throw new Error(
        `Cannot unpack ${tgz}: ${
          firstLine(new TextDecoder().decode(tar.stderr))
        }`,
      );
    }
    const binary = `${tmp}/package/deno`;
    const sha = await fileSha256(binary);
    if (sha !== AARCH64_DENO.sha256) {
      throw new Error(
        `Cannot use ${spec}: its deno binary's sha256 is ${sha}, expected ${AARCH64_DENO.sha256}`,
      );
    }
    await Deno.chmod(binary, 0o755);
    await Deno.rename(binary, target);
    return target;
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

/** sha256 of a file in hex, or undefined when it cannot be read. */
async function fileSha256(path: string): Promise<string | undefined> {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = await Deno.readFile(path);
  } catch {
    return undefined;
  }
  return Array.from(
    await digest("SHA-256", bytes),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

async function digest(
  algorithm: "SHA-256" | "SHA-512",
  bytes: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest(algorithm, bytes));
}

function base64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.trim().split("\n")[0] ?? "";
}

/** How to run aarch64 binaries on this machine. */
export interface Aarch64Runner {
  /** The emulator: `qemu-aarch64-static` or `qemu-aarch64`. */
  qemu: string;
  /**
   * Arguments before the program: `-cpu` {@linkcode AARCH64_CPU}, plus
   * `-L SYSROOT` when the aarch64 libraries are a cross sysroot
   * (`/usr/aarch64-linux-gnu`) rather than Debian multiarch
   * (`/lib/ld-linux-aarch64.so.1`, `/usr/lib/aarch64-linux-gnu`).
   */
  args: string[];
  /**
   * The command the emulator runs under: {@linkcode hideCpuCachesPrefix}
   * where a mount namespace can be made, else empty.
   */
  prefix: string[];
  /** Why the host's CPU caches could not be hidden, when they could not. */
  note?: string;
}

/**
 * Hides the host's CPU caches in sysfs from the emulated process and its
 * children: a shell in a new mount namespace (a user namespace too when not
 * root) mounts an empty tmpfs on each `/sys/devices/system/cpu/cpuN/cache`
 * and runs the rest of its arguments. Under qemu's user mode the aarch64
 * onnxruntime's cpuinfo reads the x86-64 host's sysfs as if it described ARM
 * cores, and it dereferences NULL on some hosts' cache entries (seen on a
 * 2-core AMD EPYC VM, whose L3 `index3` is shared by cpu0-1: every
 * `onnxruntime-node` import died with SIGSEGV after reading
 * `cpu1/cache/index2`). Without cache entries it takes the defaults. A
 * Jetson's sysfs describes its own ARM caches, so the product needs no such
 * thing. The mounts end with the namespace; the host sees none of them.
 */
export const HIDE_CPU_CACHES =
  'for d in /sys/devices/system/cpu/cpu[0-9]*/cache; do if [ -d "$d" ]; then mount -t tmpfs -o size=4k none "$d" || exit 97; fi; done; exec "$@"';

/**
 * The command line that runs a program with the host's CPU caches hidden
 * (see {@linkcode HIDE_CPU_CACHES}); the program and its arguments follow.
 *
 * @param options Whether this process is root (no user namespace needed).
 * @returns `unshare` and its arguments.
 */
export function hideCpuCachesPrefix(options: { root: boolean }): string[] {
  return [
    "unshare",
    "--mount",
    ...(options.root ? [] : ["--map-root-user"]),
    "sh",
    "-c",
    HIDE_CPU_CACHES,
    "hide-cpu-caches",
  ];
}

/**
 * {@linkcode hideCpuCachesPrefix} when it works here (it runs `true` under
 * it: first without a user namespace, which needs root, then with one),
 * else an empty prefix and the reason. Tried on every host: Deno reads
 * `/sys` only with `--allow-all`, and on a host without cache entries the
 * prefix mounts nothing.
 *
 * @returns The prefix, or the reason it cannot be used.
 */
export async function cpuCacheHiding(): Promise<
  { prefix: string[]; note?: string }
> {
  let note = "";
  for (const root of [true, false]) {
    const prefix = hideCpuCachesPrefix({ root });
    try {
      const out = await new Deno.Command(prefix[0], {
        args: [...prefix.slice(1), "true"],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).output();
      if (out.success) return { prefix };
      note = new TextDecoder().decode(out.stderr).trim().split("\n")[0] ||
        `exit ${out.code}`;
    } catch (error) {
      note = firstLine(error);
    }
  }
  return { prefix: [], note };
}

/**
 * The CPU qemu emulates: Cortex-A76, an Armv8.2-A core with the dot-product
 * and half-precision extensions and no SVE, the instruction set of the
 * Jetson Orin's Cortex-A78AE (and close to Xavier's Carmel), so
 * onnxruntime picks the kernels it would pick on the box. qemu's default
 * (`max`) also offers SVE2 and SME, which no Jetson has; measured on the
 * plate detector (416x416), `max` was also slower: 10.8 s against 9.4 s of
 * CPU per inference (qemu 7.2, 2-core x86-64, loaded).
 */
export const AARCH64_CPU = "cortex-a76";

/** Where the aarch64 C and C++ runtimes are found. */
const MULTIARCH = {
  loader: "/lib/ld-linux-aarch64.so.1",
  libstdcxx: [
    "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
    "/lib/aarch64-linux-gnu/libstdc++.so.6",
  ],
};
const CROSS_SYSROOT = "/usr/aarch64-linux-gnu";

/** What to install when something is missing (Debian/Ubuntu). */
export const AARCH64_PACKAGES_HINT =
  "dpkg --add-architecture arm64 && apt-get update && apt-get install qemu-user-static libc6:arm64 libstdc++6:arm64";

/**
 * Finds qemu's aarch64 user-mode emulator on `PATH` and the aarch64 C/C++
 * runtime (Debian multiarch, else a cross sysroot). binfmt_misc is not
 * needed: the emulator is called explicitly. Programs the emulated process
 * starts (ffmpeg) are host binaries and run natively.
 *
 * @returns The runner.
 * @throws {Error} One line saying what is missing and what to install.
 */
export async function findAarch64Runner(): Promise<Aarch64Runner> {
  let qemu: string | undefined;
  for (const name of ["qemu-aarch64-static", "qemu-aarch64"]) {
    qemu = await which(name);
    if (qemu !== undefined) break;
  }
  if (qemu === undefined) {
    throw new Error(
      `No qemu-aarch64-static or qemu-aarch64 on PATH: ${AARCH64_PACKAGES_HINT}`,
    );
  }
  if (await isFile(MULTIARCH.loader)) {
    for (const lib of MULTIARCH.libstdcxx) {
      if (await isFile(lib)) {
        return { qemu, args: ["-cpu", AARCH64_CPU], ...await cpuCacheHiding() };
      }
    }
    throw new Error(
      `No aarch64 libstdc++ (${
        MULTIARCH.libstdcxx[0]
      }): ${AARCH64_PACKAGES_HINT}`,
    );
  }
  if (
    await isFile(`${CROSS_SYSROOT}/lib/ld-linux-aarch64.so.1`) &&
    await isFile(`${CROSS_SYSROOT}/lib/libstdc++.so.6`)
  ) {
    return {
      qemu,
      args: ["-cpu", AARCH64_CPU, "-L", CROSS_SYSROOT],
      ...await cpuCacheHiding(),
    };
  }
  throw new Error(
    `No aarch64 C library (${MULTIARCH.loader}): ${AARCH64_PACKAGES_HINT}`,
  );
}

async function which(name: string): Promise<string | undefined> {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir === "") continue;
    const path = `${dir}/${name}`;
    if (await isFile(path)) return path;
  }
  return undefined;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}
