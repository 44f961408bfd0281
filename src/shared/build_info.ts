/**
 * What the running program is: `deno task dashcam` from source, or the
 * binary made by `deno task compile` (whose name, in help and error text, is
 * `dashcam`), and whether its baked-in net permission lets it reach a host.
 *
 * @module
 */

/**
 * Whether `mainModule` is the entry point of a `deno compile` binary: its
 * modules are served from a virtual folder named `deno-compile-<binary>`
 * (Deno 2: e.g. `file:///tmp/deno-compile-dashcam-x86_64/main.ts`).
 *
 * @param mainModule URL of the main module. @default {Deno.mainModule}
 * @returns True inside a compiled binary.
 */
export function isCompiled(mainModule: string = Deno.mainModule): boolean {
  return /\/deno-compile-[^/]+\//.test(mainModule);
}

/**
 * How the user invokes the CLI, for help and error text.
 *
 * @param mainModule URL of the main module. @default {Deno.mainModule}
 * @returns `dashcam` in a compiled binary, else `deno task dashcam`.
 */
export function commandName(mainModule: string = Deno.mainModule): string {
  return isCompiled(mainModule) ? "dashcam" : "deno task dashcam";
}

/**
 * `host:port` of a Postgres URL (port 5432 when absent), or null when the
 * URL cannot be parsed (the Postgres client reports that itself).
 *
 * @param url Connection URL such as `postgres://dashcam@fleet.example/dashcam_final`.
 * @returns `fleet.example:5432`, or null.
 */
export function pgHostPort(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (!/^postgres(ql)?:$/.test(parsed.protocol) || parsed.hostname === "") {
    return null;
  }
  return `${parsed.hostname}:${parsed.port || "5432"}`;
}

/**
 * One line when this program may not connect to the Postgres host of `url`
 * (a compiled binary reaches only the hosts in `DASHCAM_PG_HOSTS` at build
 * time, and 127.0.0.1), else null. Uses `Deno.permissions.querySync`.
 *
 * @param url The `pg.url` setting.
 * @returns The line, or null when allowed (or the URL has no host).
 */
export function pgHostProblem(url: string): string | null {
  const host = pgHostPort(url);
  if (host === null) return null;
  const { state } = Deno.permissions.querySync({ name: "net", host });
  if (state === "granted") return null;
  return `Cannot connect to the fleet Postgres at ${host} (pg.url): this ${
    isCompiled() ? "binary" : "process"
  } may not open connections to it; allow it by rebuilding the binary with ` +
    `DASHCAM_PG_HOSTS=${host} deno task compile`;
}

/**
 * The config file read when neither `--config` nor `DASHCAM_CONFIG` names
 * one: the installed `/etc/dashcam/dashcam.json` for the compiled binary (it
 * may read nothing else, and an operator's shell has no `DASHCAM_CONFIG`),
 * `config/dashcam.json` from the working directory otherwise.
 *
 * @param mainModule URL of the main module. @default {Deno.mainModule}
 * @returns The path.
 */
export function defaultConfigFile(
  mainModule: string = Deno.mainModule,
): string {
  return isCompiled(mainModule)
    ? "/etc/dashcam/dashcam.json"
    : "config/dashcam.json";
}
