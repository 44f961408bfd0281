/**
 * A throwaway PostgreSQL cluster for tests and benches: a temp folder,
 * `initdb` with SCRAM password auth over TCP, `pg_ctl start` on a free port.
 * When the process runs as root, initdb and pg_ctl run as the `postgres`
 * user (initdb refuses root) and the temp folder is handed to that user.
 *
 * @module
 */

/** Where Debian puts each major version's server binaries. */
const PG_LIB = "/usr/lib/postgresql";

/** The major versions the product supports, newest first. */
const PG_MAJORS = [17, 16, 15, 14];

/**
 * Finds the server binaries: `PG_BIN` from the environment, else the newest
 * of `/usr/lib/postgresql/{17,16,15,14}/bin` that holds `initdb` (Debian and
 * Ubuntu install them there, off PATH), else `null` (PATH is used).
 *
 * @param options `root` stands in for `/usr/lib/postgresql` in tests; `env`
 *   for the process's environment.
 * @returns The folder, or `null`.
 */
export function findPgBinDir(
  options: { root?: string; env?: Record<string, string | undefined> } = {},
): string | null {
  const { root = PG_LIB, env = { PG_BIN: Deno.env.get("PG_BIN") } } = options;
  if (env.PG_BIN) return env.PG_BIN;
  for (const major of PG_MAJORS) {
    const dir = `${root}/${major}/bin`;
    try {
      Deno.statSync(`${dir}/initdb`);
      return dir;
    } catch {
      // Not this version.
    }
  }
  return null;
}

/** Modes of `pg_ctl stop`. */
export type PgStopMode = "smart" | "fast" | "immediate";

/** A running throwaway cluster. */
export interface PgCluster {
  /** URL of the `postgres` database, as the test user, password included. */
  url: string;
  /** TCP port on 127.0.0.1. */
  port: number;
  /** Data directory. */
  dataDir: string;
  /** The test user (a superuser). */
  user: string;
  /** The test user's password. */
  password: string;
  /** Returns the URL of database `name` on this cluster. */
  urlFor(name: string, options?: { password?: string | null }): string;
  /** Stops the server (`pg_ctl stop -m MODE -w`); default mode "fast". */
  stop(mode?: PgStopMode): Promise<void>;
  /** Starts the server again and waits until it accepts connections. */
  start(): Promise<void>;
  /** Stops the server (if running) and removes the temp folder. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options for {@linkcode startPgCluster}. */
export interface StartPgClusterOptions {
  /** Name of the test user. @default {"dashcam_test"} */
  user?: string;
  /** Password of the test user. @default {a random string starting with "pw-"} */
  password?: string;
  /** Keep fsync on (for benches that should resemble a real server). @default {false} */
  durable?: boolean;
  /** The server's `max_connections` (a fleet of devices needs one each). @default {50} */
  maxConnections?: number;
  /** More `-c name=value` server settings, e.g. `{ maintenance_work_mem: "1GB" }`. @default {{}} */
  settings?: Record<string, string>;
}

function binary(name: string): string {
  const dir = findPgBinDir();
  return dir ? `${dir}/${name}` : name;
}

function isRoot(): boolean {
  return Deno.uid() === 0;
}

function postgresIds(): { uid: number; gid: number } {
  const passwd = Deno.readTextFileSync("/etc/passwd");
  for (const line of passwd.split("\n")) {
    const parts = line.split(":");
    if (parts[0] === "postgres") {
      return { uid: Number(parts[2]), gid: Number(parts[3]) };
    }
  }
  throw new Error(
    "Cannot run initdb as root: no 'postgres' user in /etc/passwd",
  );
}

async function run(args: string[], cwd: string): Promise<string> {
  const argv = isRoot() ? ["runuser", "-u", "postgres", "--", ...args] : args;
  const command = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  let out: Deno.CommandOutput;
  try {
    out = await command.output();
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    throw new Error(
      `Cannot run ${args[0]}: no PostgreSQL server binaries in ${PG_LIB}/{${
        PG_MAJORS.join(",")
      }}/bin or on PATH (apt-get install postgresql, or set PG_BIN to the folder holding initdb)`,
    );
  }
  const { code, stdout, stderr } = out;
  const text = new TextDecoder().decode(stdout) +
    new TextDecoder().decode(stderr);
  if (code !== 0) {
    throw new Error(`Cannot run ${args[0]}: exit code ${code}: ${text.trim()}`);
  }
  return text;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Creates and starts a throwaway cluster. Dispose it with `await using`.
 *
 * @example Start, query, dispose
 * ```ts ignore
 * await using cluster = await startPgCluster();
 * const sql = postgres(cluster.url);
 * ```
 * @param options Test user and password.
 * @returns The running cluster.
 */
export async function startPgCluster(
  options: StartPgClusterOptions = {},
): Promise<PgCluster> {
  const user = options.user ?? "dashcam_test";
  const password = options.password ??
    `pw-${crypto.randomUUID().replaceAll("-", "")}`;
  const root = await Deno.makeTempDir({ prefix: "pg_cluster_" });
  const dataDir = `${root}/data`;
  const pwFile = `${root}/pwfile`;
  await Deno.writeTextFile(pwFile, password + "\n");
  if (isRoot()) {
    const { uid, gid } = postgresIds();
    await Deno.chown(root, uid, gid);
    await Deno.chown(pwFile, uid, gid);
  }
  await run([
    binary("initdb"),
    "-D",
    dataDir,
    "-U",
    user,
    `--pwfile=${pwFile}`,
    "--auth-host=scram-sha-256",
    "--auth-local=trust",
    "--no-sync",
    "--no-instructions",
    "-E",
    "UTF8",
    "--locale=C",
  ], root);
  await Deno.remove(pwFile);
  const port = freePort();
  let running = false;
  const maxConnections = options.maxConnections ?? 50;
  const settings = Object.entries(options.settings ?? {})
    .map(([name, value]) => ` -c ${name}=${value}`).join("");

  const start = async (): Promise<void> => {
    await run([
      binary("pg_ctl"),
      "-D",
      dataDir,
      "-l",
      `${root}/server.log`,
      "-o",
      `-k ${root} -p ${port} -c listen_addresses=127.0.0.1 ` +
      `-c max_connections=${maxConnections}` +
      (options.durable ? "" : " -c fsync=off -c full_page_writes=off") +
      settings,
      "-w",
      "start",
    ], root);
    running = true;
  };
  const stop = async (mode: PgStopMode = "fast"): Promise<void> => {
    await run(
      [binary("pg_ctl"), "-D", dataDir, "-m", mode, "-w", "stop"],
      root,
    );
    running = false;
  };
  const urlFor = (
    name: string,
    urlOptions: { password?: string | null } = {},
  ): string => {
    const pw = urlOptions.password === undefined
      ? password
      : urlOptions.password;
    const auth = pw === null ? user : `${user}:${encodeURIComponent(pw)}`;
    return `postgres://${auth}@127.0.0.1:${port}/${name}`;
  };

  await start();
  return {
    url: urlFor("postgres"),
    port,
    dataDir,
    user,
    password,
    urlFor,
    stop,
    start,
    async [Symbol.asyncDispose]() {
      if (running) {
        try {
          await stop("immediate");
        } catch {
          // Already gone: nothing to stop.
        }
      }
      await Deno.remove(root, { recursive: true });
    },
  };
}
