/**
 * Connecting to the fleet Postgres with postgres.js: where the password comes
 * from, TLS modes, a fast reconnect backoff, a bounded close, and one-line
 * error messages that name the setting and host:port but never a secret.
 * Only `sink/` opens Postgres.
 *
 * @module
 */
import { Socket } from "node:net";
import postgres from "postgres";
import { log as defaultLog, type Logger, redactSecrets } from "../log/mod.ts";
import { deadline, doublingDelay } from "../shared/mod.ts";

/** A postgres.js client, as `connectPg` returns it. */
export type PgSql = postgres.Sql;

/** TLS modes for the Postgres connection. */
export type PgTlsMode = "disable" | "prefer" | "require" | "verify-full";

/** Options for {@linkcode connectPg}. */
export interface ConnectPgOptions {
  /** Connection URL, e.g. `postgres://dashcam@fleet.example:5432/dashcam_final`. */
  url: string;
  /** File holding the password (first line), when the URL has none. @default {$CREDENTIALS_DIRECTORY/pg-password when that file exists} */
  passwordFile?: string;
  /** TLS mode. @default {"prefer"} */
  tls?: PgTlsMode;
  /** CA bundle (PEM) that signs the server certificate; used with "verify-full". */
  caFile?: string;
  /** Seconds to wait for a connection. @default {10} */
  connectTimeoutS?: number;
  /** Seconds an idle connection is kept (a roaming vehicle's sockets go stale). @default {30} */
  idleTimeoutS?: number;
  /** Most connections in the pool. @default {2} */
  max?: number;
  /** Connect to this database instead of the URL's. */
  database?: string;
  /** Name of the setting holding the URL, for error messages. @default {"pg.url"} */
  setting?: string;
  /** Receives server notices (at debug level). @default {the module `log`} */
  log?: Logger;
}

/**
 * Passwords this module has handed to the driver; `describePgError` scrubs
 * them from every message, so a driver that echoes one cannot leak it.
 */
const knownSecrets = new Set<string>();

function rememberSecret(secret: string): void {
  if (secret.length > 0) knownSecrets.add(secret);
}

/**
 * Reconnect delay in seconds after `attempt` failed connects: 0.1, 0.2, 0.4,
 * then 0.5 s (the driver's default takes 4-5 s to come back after a restart).
 *
 * @param attempt Failed attempts so far.
 * @returns Seconds to wait.
 */
export function pgBackoff(attempt: number): number {
  return doublingDelay(attempt + 1, { firstMs: 50, maxMs: 500 }) / 1000;
}

function parseUrl(url: string, setting: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(
      `Cannot connect to Postgres as ${setting} is not a URL: current value is ${
        JSON.stringify(redactUrl(url))
      }`,
    );
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new TypeError(
      `Cannot connect to Postgres as ${setting} must start with postgres://: current value is ${
        JSON.stringify(redactUrl(url))
      }`,
    );
  }
  return parsed;
}

/**
 * `host:port` of a Postgres URL (port 5432 when absent), for messages.
 *
 * @param url Connection URL.
 * @returns e.g. "fleet.example:5432", or "(invalid url)".
 */
export function pgHostPort(url: string): string {
  try {
    const parsed = new URL(url);
    const host = parsed.hostname || "localhost";
    return `${host}:${parsed.port || "5432"}`;
  } catch {
    return "(invalid url)";
  }
}

/**
 * Replaces the password of a Postgres URL with `***` (also in a
 * `password=` query parameter).
 *
 * @example Redacting
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(redactUrl("postgres://u:s3cret@h:5432/db"), "postgres://u:***@h:5432/db");
 * ```
 * @param url Connection URL.
 * @returns The URL without its password.
 */
export function redactUrl(url: string): string {
  // The general rule: also a typo'd scheme (`postgres//`, `postgress:`) or
  // none at all, where a URL parser would not find the password.
  return redactSecrets(url);
}

function readPasswordFile(path: string, setting: string): string {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (err) {
    const reason = err instanceof Deno.errors.NotFound
      ? "no such file"
      : err instanceof Deno.errors.PermissionDenied ||
          err instanceof Deno.errors.NotCapable
      ? "permission denied"
      : (err as Error).message;
    throw new Error(
      `Cannot read the Postgres password file ${path} (${setting}): ${reason}`,
    );
  }
  return text.split(/\r?\n/)[0] ?? "";
}

function envGet(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/**
 * Finds the password: the URL's, else `passwordFile`, else the systemd
 * credential `$CREDENTIALS_DIRECTORY/pg-password` when it exists, else
 * `PGPASSWORD`, else none.
 *
 * @param url Connection URL.
 * @param options Password file; setting named in errors.
 * @returns The password and where it came from (never logged).
 * @throws {TypeError} When the URL is malformed.
 * @throws {Error} When `passwordFile` cannot be read.
 */
export function resolvePgPassword(
  url: string,
  options: { passwordFile?: string; setting?: string } = {},
): { password: string | null; source: string } {
  const parsed = parseUrl(url, options.setting ?? "pg.url");
  if (parsed.password !== "") {
    return { password: decodeURIComponent(parsed.password), source: "url" };
  }
  if (options.passwordFile !== undefined) {
    return {
      password: readPasswordFile(options.passwordFile, "pg.password_file"),
      source: "pg.password_file",
    };
  }
  const credentials = envGet("CREDENTIALS_DIRECTORY");
  if (credentials !== undefined && credentials !== "") {
    const path = `${credentials}/pg-password`;
    let exists = false;
    try {
      exists = Deno.statSync(path).isFile;
    } catch {
      exists = false;
    }
    if (exists) {
      return {
        password: readPasswordFile(path, "$CREDENTIALS_DIRECTORY/pg-password"),
        source: "credential",
      };
    }
  }
  const env = envGet("PGPASSWORD");
  if (env !== undefined && env !== "") {
    return { password: env, source: "PGPASSWORD" };
  }
  return { password: null, source: "none" };
}

/** The part of postgres.js's parsed options a socket factory needs. */
interface SocketTarget {
  host: string[];
  port: number[];
  path?: string | false;
}

/**
 * Makes `socket` survive an `error` event that nobody listens to: the event
 * goes to `onLate` instead of being thrown (an EventEmitter throws an
 * `error` without listeners, which kills the process). Other events, and
 * errors that have a listener, pass as usual. Scoped to this one socket: no
 * process-wide handler.
 *
 * Why: postgres.js 3.4.9 calls `socket.removeAllListeners()` on a socket
 * when it closes (`closed()`) and before it wraps it in TLS (`secure()`),
 * and drops its reference; an error the runtime reports on that socket
 * afterwards (seen in the field: `ECONNREFUSED` during a server restart,
 * about once in 300 restarts) had no listener and killed the daemon. The
 * driver has already failed the queries of that connection and reconnects
 * on its own, so the late error carries nothing to act on.
 *
 * @param socket A socket (or any EventEmitter).
 * @param onLate Receives the dropped errors.
 */
export function guardSocketErrors(
  socket: {
    emit(event: string | symbol, ...args: unknown[]): boolean;
    listenerCount(event: string | symbol): number;
  },
  onLate: (err: unknown) => void,
): void {
  const emit = socket.emit;
  socket.emit = function (event: string | symbol, ...args: unknown[]) {
    if (event === "error" && this.listenerCount("error") === 0) {
      onLate(args[0]);
      return false;
    }
    return emit.call(this, event, ...args);
  };
}

/**
 * The `socket` option of postgres.js: a plain TCP (or Unix) socket, guarded
 * by {@linkcode guardSocketErrors}, connecting to the next host of the list.
 * The driver attaches its own listeners to it and writes its first message
 * (buffered until the connection is up), as with its own sockets.
 */
function guardedSocketFactory(log: Logger): (target: SocketTarget) => Socket {
  let next = 0;
  return (target) => {
    const socket = new Socket();
    guardSocketErrors(socket, (err) => {
      log.debug(
        "postgres: ignored a late socket error (connection already closed)",
        {
          error: err instanceof Error ? err.message : String(err),
        },
      );
    });
    if (typeof target.path === "string" && target.path !== "") {
      socket.connect(target.path);
      return socket;
    }
    const i = next++ % Math.max(1, target.host.length);
    const host = target.host[i] ?? "localhost";
    const port = Number(target.port[i] ?? target.port[0] ?? 5432);
    socket.connect(port, host);
    // The driver names host:port in its errors and uses the host for TLS SNI.
    Object.assign(socket, { host, port });
    return socket;
  };
}

/**
 * True for a rejection of the query postgres.js 3.4.9 runs by itself on
 * each new connection to learn the array types (`fetchArrayTypes` in
 * src/connection.js: `... from pg_catalog.pg_type a ... where a.typcategory
 * = 'A'`). The driver attaches the failed statement as `err.query`.
 *
 * @param reason A rejection reason.
 * @returns Whether it is that internal query's failure.
 */
export function isDriverTypeFetchError(reason: unknown): boolean {
  if (typeof reason !== "object" || reason === null) return false;
  const query = (reason as { query?: unknown }).query;
  return typeof query === "string" && query.includes("pg_catalog.pg_type") &&
    query.includes("typcategory = 'A'");
}

let typeFetchGuard: Logger | null = null;

/**
 * Keeps the driver's own array-type query from killing the process.
 * postgres.js 3.4.9 runs it from an async function nobody awaits; when the
 * connection dies while it runs (a server restarting again right after a
 * reconnect, an administrator terminating backends), the rejection is
 * unhandled and Deno exits. Only that query's rejections are taken (logged
 * at debug level); the queries waiting on the connection have already been
 * failed by the driver and the caller retries them. Every other unhandled
 * rejection still ends the process. Installed once per process.
 */
function guardTypeFetch(log: Logger): void {
  const installed = typeFetchGuard !== null;
  typeFetchGuard = log; // the latest client's logger gets the line
  if (installed) return;
  globalThis.addEventListener("unhandledrejection", (event) => {
    if (!isDriverTypeFetchError(event.reason)) return;
    event.preventDefault();
    typeFetchGuard?.debug(
      "postgres: a connection died while loading array types; it reconnects",
      {
        error: event.reason instanceof Error
          ? event.reason.message
          : String(event.reason),
      },
    );
  });
}

/**
 * Makes the client load the array types only until it has them once
 * (postgres.js reloads them on every new connection, which after a server
 * restart is one more query that can fail in the reconnect window). The
 * driver reads `options.fetch_types` on each connect; the loaded types live
 * in `options.shared.typeArrayMap` for the whole client.
 */
function fetchTypesOnce(sql: PgSql): void {
  const options = (sql as unknown as {
    options?: { shared?: { typeArrayMap?: Record<string, unknown> } };
  }).options;
  if (options?.shared?.typeArrayMap === undefined) return;
  const shared = options.shared;
  Object.defineProperty(options, "fetch_types", {
    configurable: true,
    enumerable: true,
    get: () => Object.keys(shared.typeArrayMap ?? {}).length === 0,
  });
}

function tlsOption(
  tls: PgTlsMode,
  caFile: string | undefined,
): boolean | "prefer" | "require" | "verify-full" | object {
  if (tls === "disable") return false;
  if (tls === "prefer") return "prefer";
  if (tls === "require") return "require";
  if (caFile === undefined) return "verify-full";
  let ca: string;
  try {
    ca = Deno.readTextFileSync(caFile);
  } catch (err) {
    throw new Error(
      `Cannot read the Postgres CA file ${caFile} (pg.ca_file): ${
        (err as Error).message
      }`,
    );
  }
  return { ca, rejectUnauthorized: true };
}

/**
 * Creates a postgres.js client. Nothing connects until the first query; the
 * client reconnects by itself after a server restart (failed queries are not
 * retried: the caller retries).
 *
 * @example Connect and query
 * ```ts ignore
 * const sql = connectPg({ url: "postgres://dashcam@127.0.0.1:5432/dashcam_final" });
 * await sql`SELECT 1`;
 * await closePg(sql);
 * ```
 * @param options URL, password file, TLS, timeouts.
 * @returns The client.
 * @throws {TypeError} When the URL is malformed.
 * @throws {Error} When the password or CA file cannot be read.
 */
export function connectPg(options: ConnectPgOptions): PgSql {
  const {
    url,
    passwordFile,
    tls = "prefer",
    caFile,
    connectTimeoutS = 10,
    idleTimeoutS = 30,
    max = 2,
    database,
    setting = "pg.url",
    log = defaultLog,
  } = options;
  const resolved = passwordFile === undefined
    ? resolvePgPassword(url, { setting })
    : resolvePgPassword(url, { passwordFile, setting });
  if (resolved.password !== null) rememberSecret(resolved.password);
  const pgOptions: postgres.Options<Record<string, postgres.PostgresType>> = {
    ssl: tlsOption(tls, caFile),
    max,
    connect_timeout: connectTimeoutS,
    idle_timeout: idleTimeoutS,
    backoff: pgBackoff,
    onnotice: (notice) => {
      log.debug("postgres notice", { message: notice.message });
    },
    connection: { application_name: "dashcam" },
  };
  // Our own sockets, so that an error on one the driver has dropped cannot
  // kill the process (see guardSocketErrors). `socket` is a documented
  // option that the 3.4.9 type definitions do not list.
  Object.assign(pgOptions, { socket: guardedSocketFactory(log) });
  if (database !== undefined) pgOptions.database = database;
  if (resolved.password !== null) pgOptions.password = resolved.password;
  guardTypeFetch(log);
  const sql = postgres(url, pgOptions);
  fetchTypesOnce(sql);
  return sql;
}

/**
 * `host:port` a client connects to (its first host), for messages; null when
 * the client does not say.
 *
 * @param sql A postgres.js client.
 * @returns e.g. "fleet.example:5432", or null.
 */
export function pgTarget(sql: PgSql): string | null {
  const options = (sql as { options?: { host?: unknown; port?: unknown } })
    .options;
  const hosts = [options?.host].flat().filter((h) => typeof h === "string");
  const ports = [options?.port].flat().filter((p) =>
    typeof p === "number" || typeof p === "string"
  );
  if (hosts.length === 0) return null;
  return hosts.map((h, i) => `${h}:${ports[i] ?? ports[0] ?? 5432}`).join(",");
}

/**
 * An error whose message is already the one line {@linkcode describePgError}
 * gives; describing it again returns the message unchanged (no "Postgres
 * error at (unknown host)" wrapped around it). `cause` keeps the driver's
 * error.
 */
export class PgDescribedError extends Error {
  /**
   * @param message The described line.
   * @param options The driver's error as `cause`.
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PgDescribedError";
  }
}

/** Options for {@linkcode describePgError}. */
export interface DescribePgErrorOptions {
  /** Setting that holds the URL, named in the message. @default {"pg.url"} */
  setting?: string;
  /** The URL used (gives host:port and a password to scrub). */
  url?: string;
  /** `host:port` to name when `url` is not given (see {@linkcode pgTarget}). */
  where?: string;
  /** More strings to scrub from the message. */
  secrets?: readonly string[];
}

interface DriverError {
  code?: unknown;
  message?: unknown;
  address?: unknown;
  port?: unknown;
  hostname?: unknown;
}

function scrub(text: string, secrets: Iterable<string>): string {
  let out = redactUrl(text).replace(
    /(postgres(?:ql)?:\/\/[^:/@\s]*):[^@\s]*@/gi,
    "$1:***@",
  );
  for (const secret of secrets) {
    if (secret.length > 0) out = out.replaceAll(secret, "***");
  }
  return out;
}

/**
 * Turns a driver or server error into ONE line that names the setting and
 * `host:port` and says what to check, without any password. Also scrubs
 * known passwords from `err.message` in place, in case the error is logged
 * elsewhere.
 *
 * @example Server down
 * ```ts
 * import assert from "node:assert/strict";
 * const err = Object.assign(new Error("connect ECONNREFUSED 10.0.0.5:5432"), { code: "ECONNREFUSED" });
 * assert.equal(
 *   describePgError(err, { url: "postgres://u:pw@10.0.0.5:5432/db" }),
 *   "Cannot reach Postgres at 10.0.0.5:5432 (pg.url): connection refused, is the server running and listening there?",
 * );
 * ```
 * @param err What the driver threw.
 * @param options Setting name, URL, extra secrets.
 * @returns One line, no newline.
 */
export function describePgError(
  err: unknown,
  options: DescribePgErrorOptions = {},
): string {
  const { setting = "pg.url", url, secrets = [] } = options;
  const all = new Set<string>([...knownSecrets, ...secrets]);
  const env = envGet("PGPASSWORD");
  if (env !== undefined) all.add(env);
  if (url !== undefined) {
    try {
      const password = decodeURIComponent(new URL(url).password);
      if (password !== "") all.add(password);
    } catch {
      // Not a URL: nothing to take from it.
    }
  }
  const e = (typeof err === "object" && err !== null ? err : {}) as DriverError;
  const rawMessage = typeof e.message === "string" ? e.message : String(err);
  const message = scrub(rawMessage, all).split(/\r?\n/)[0] ?? "";
  if (err instanceof Error && err.message !== scrub(err.message, all)) {
    err.message = scrub(err.message, all);
  }
  const name = (err as { name?: unknown } | null)?.name;
  // Already one line (ours), or a local outbox fault: not a Postgres error.
  if (name === "PgDescribedError" || name === "OutboxWriteError") {
    return message;
  }
  if (e.code === "ERR_SQLITE_ERROR") {
    return `Local SQLite error (not Postgres): ${message}`;
  }
  const code = typeof e.code === "string" ? e.code : "";
  let where = url !== undefined ? pgHostPort(url) : (options.where ?? "");
  if (where === "") {
    // postgres.js gives strings, or arrays (one per host) once the socket is gone.
    const address = [e.address].flat().filter((a) => typeof a === "string");
    const port = [e.port].flat().filter((p) =>
      typeof p === "number" || typeof p === "string"
    );
    if (address.length > 0) {
      where = port.length > 0
        ? `${address.join(",")}:${port.join(",")}`
        : address.join(",");
    }
  }
  if (where === "") where = "(unknown host)";
  const at = `Postgres at ${where} (${setting})`;
  switch (code) {
    case "ECONNREFUSED":
      return `Cannot reach ${at}: connection refused, is the server running and listening there?`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "EAI_NONAME":
      return `Cannot reach ${at}: host name not found (DNS), check the host in the URL`;
    case "CONNECT_TIMEOUT":
    case "ETIMEDOUT":
      return `Cannot reach ${at}: connection timed out, check the network and firewall`;
    case "QUERY_TIMEOUT":
      return `No answer from ${at}: ${message}, will retry`;
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return `Cannot reach ${at}: network unreachable`;
    case "ECONNRESET":
    case "EPIPE":
    case "CONNECTION_CLOSED":
    case "CONNECTION_ENDED":
    case "CONNECTION_DESTROYED":
      return `Lost the connection to ${at}: ${code}, will retry`;
    case "28P01":
      return `Cannot log in to ${at}: wrong password (${message}), check the password in the URL, pg.password_file or PGPASSWORD`;
    case "28000":
      return `Cannot log in to ${at}: not allowed (${message}), check pg_hba.conf and the user name`;
    case "3D000":
      return `Cannot open the database at ${where} (${setting}): ${message}, run \`migrate\` to create it`;
    case "57P03":
      return `Cannot use ${at}: the server is starting up or shutting down, will retry`;
    case "57P01":
    case "57P02":
      return `Lost the connection to ${at}: the server shut down (${code}), will retry`;
    case "53300":
      return `Cannot connect to ${at}: too many connections`;
    case "42501":
      return `Cannot use ${at}: permission denied (${message}), check the user's grants`;
    case "42P01":
      return `Cannot use ${at}: ${message}, run \`migrate\``;
    default:
      if (/certificate|SSL|TLS/i.test(message)) {
        return `Cannot open a TLS connection to ${at}: ${message}, check pg.tls and pg.ca_file`;
      }
      return `Postgres error at ${where} (${setting}): ${
        code ? `${code} ` : ""
      }${message}`;
  }
}

/**
 * Closes the client, giving queries `timeoutMs` to finish. `sql.end()` has
 * been seen to hang after a server restart, so this never waits longer.
 *
 * @param sql The client.
 * @param timeoutMs Most milliseconds to wait. @default {5000}
 * @returns True when the client closed in time.
 */
export async function closePg(sql: PgSql, timeoutMs = 5000): Promise<boolean> {
  const ended = sql.end({ timeout: timeoutMs / 1000 }).then(
    () => true as const,
    () => true as const,
  );
  return await deadline(ended, timeoutMs).catch(() => false);
}
