/**
 * `deno task compile [x86_64|aarch64]`: builds the appliance binary
 * `dist/dashcam-<arch>` with its permissions baked in (see README.md,
 * "Permissions"). A script rather than a task line because the allowed hosts
 * come from the environment with defaults, which deno.json tasks cannot
 * express portably:
 *
 * - `DASHCAM_PG_HOSTS`: comma-separated `host:port` of the fleet Postgres;
 *   unset or empty = none (loopback only: a box without a fleet database).
 * - `DASHCAM_MODELS_HOSTS`: hosts `models install` may download from;
 *   unset = GitHub's (`github.com` and the hosts its downloads redirect to),
 *   empty = none (models only with `--from DIR`). A fleet mirror's host goes
 *   here.
 * - `DENORT_BIN`: a `denort` of the same Deno version, where dl.deno.land is
 *   unreachable (read by `deno compile` itself).
 *
 * @module
 */

/**
 * The V8 flags the product runs with (the binary embeds them; the dashcam
 * task in deno.json gives the same). A young generation of 1 MiB per
 * isolate instead of V8's default of up to 16 MiB semi-spaces: the stage
 * workers each churn through per-frame JSON and arrays, and each isolate
 * kept its young generation full between scavenges. Measured on `process`
 * of the 7 media clips with six workers: peak RSS of deno 445 MiB with V8's
 * default, 375 MiB with 1 MiB.
 */
export const V8_FLAGS = "--v8-flags=--max-semi-space-size=1,--expose-gc";

/** Architectures of `deno compile --target`. */
export const TARGETS = {
  x86_64: "x86_64-unknown-linux-gnu",
  aarch64: "aarch64-unknown-linux-gnu",
} as const;

/** A target architecture. */
export type Arch = keyof typeof TARGETS;

/** GitHub hosts a model download touches (raw files and release assets redirect). */
export const GITHUB_HOSTS = [
  "github.com",
  "raw.githubusercontent.com",
  "objects.githubusercontent.com",
  "release-assets.githubusercontent.com",
];

/** Environment variables the binary may read. */
export const ALLOWED_ENV = [
  "DASHCAM_CONFIG",
  "DASHCAM_DATA_DIR",
  "DASHCAM_MODELS_DIR",
  "DASHCAM_PG_URL",
  "DASHCAM_LOG_LEVEL",
  "DASHCAM_MODELS_MIRROR",
  "HTTPS_PROXY",
  "https_proxy",
  "NO_PROXY",
  "no_proxy",
  "JOURNAL_STREAM",
  "NOTIFY_SOCKET",
  "WATCHDOG_USEC",
  "WATCHDOG_PID",
  "CREDENTIALS_DIRECTORY",
  "XDG_RUNTIME_DIR",
  "PGPASSWORD",
  "PGHOST",
  "PGPORT",
  "PGUSER",
  "PGDATABASE",
  "PGSSLMODE",
];

/** Options for {@linkcode compileArgs}. */
export interface CompileOptions {
  /** `DASHCAM_PG_HOSTS`: comma-separated `host:port`; empty or undefined = none. */
  pgHosts?: string;
  /** `DASHCAM_MODELS_HOSTS`: comma-separated hosts; undefined = {@linkcode GITHUB_HOSTS}, empty = none. */
  modelsHosts?: string;
}

function hostList(value: string | undefined): string[] {
  return (value ?? "").split(",").map((h) => h.trim()).filter((h) => h !== "");
}

/**
 * The `deno compile` arguments for one architecture.
 *
 * @param arch Target architecture.
 * @param options Allowed Postgres and model hosts.
 * @returns Arguments after `deno`.
 */
export function compileArgs(
  arch: Arch,
  options: CompileOptions = {},
): string[] {
  const net = [
    ...hostList(options.pgHosts),
    ...(options.modelsHosts === undefined
      ? GITHUB_HOSTS
      : hostList(options.modelsHosts)),
    "127.0.0.1",
  ];
  return [
    "compile",
    V8_FLAGS,
    "--no-prompt",
    "--allow-read=/etc/dashcam,/var/lib/dashcam,/run/credentials,/media,/run/media,/mnt",
    "--allow-write=/var/lib/dashcam",
    "--allow-run=ffmpeg,ffprobe,exiftool,perl,systemd-notify,df",
    `--allow-env=${ALLOWED_ENV.join(",")}`,
    `--allow-net=${[...new Set(net)].join(",")}`,
    "--allow-ffi",
    "--allow-sys",
    "--include",
    "src/daemon/stage_worker.ts",
    "--include",
    "src/vision/detector_worker.ts",
    "--include",
    "src/vision/stages/mod.ts",
    "--include",
    "models/models.json",
    "--include",
    "node_modules/onnxruntime-web/dist",
    "--target",
    TARGETS[arch],
    "--output",
    `dist/dashcam-${arch}`,
    "main.ts",
  ];
}

if (import.meta.main) {
  const arch = (Deno.args[0] ?? "x86_64") as Arch;
  if (!(arch in TARGETS)) {
    console.error(
      `compile: unknown architecture '${arch}': ${
        Object.keys(TARGETS).join(" or ")
      }`,
    );
    Deno.exit(2);
  }
  const root = new URL("../", import.meta.url).pathname;
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: compileArgs(arch, {
      pgHosts: Deno.env.get("DASHCAM_PG_HOSTS"),
      modelsHosts: Deno.env.get("DASHCAM_MODELS_HOSTS"),
    }),
    cwd: root,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  Deno.exit(code);
}
