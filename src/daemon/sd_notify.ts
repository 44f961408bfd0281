/**
 * sd_notify for systemd `Type=notify` services and the watchdog.
 *
 * systemd listens on an AF_UNIX datagram socket named by `$NOTIFY_SOCKET` (a
 * path, or an abstract name when it starts with `@`). Deno 2.9 can send unix
 * datagrams only through `Deno.listenDatagram({ transport: "unixpacket" })`,
 * which exists only under `--unstable-net` and then also needs
 * `--allow-net=unix:<socket>` plus read/write on the socket paths. So there
 * are two transports:
 * - `datagram`: used when `Deno.listenDatagram` exists; binds a socket of its
 *   own (at `bindPath`, or an abstract name, which needs full `--allow-net`)
 *   and sends from the daemon's own PID (works with `NotifyAccess=main`).
 * - `systemd-notify`: spawns `systemd-notify VAR=value ...` (needs
 *   `--allow-run=systemd-notify` and `NotifyAccess=all` in the unit, as the
 *   message comes from a child PID; systemd-notify waits for systemd to take
 *   the message, so the short-lived PID is still attributed to the unit).
 * `auto` tries `datagram` when available and falls back to `systemd-notify`.
 * Nothing is sent, and nothing fails, when `$NOTIFY_SOCKET` is unset.
 *
 * @module
 */

/** Environment lookup used by this module (tests pass their own). */
export type EnvLookup = (name: string) => string | undefined;

/** How a notification is sent. */
export type NotifyTransport = "auto" | "datagram" | "systemd-notify";

/** Options for {@linkcode notify}. */
export interface NotifyOptions {
  /** Reads `NOTIFY_SOCKET`. @default {Deno.env, unset when not allowed} */
  env?: EnvLookup;
  /** Transport. @default {"auto"} */
  transport?: NotifyTransport;
  /**
   * Where the `datagram` transport binds its own socket (removed after use).
   * @default {an abstract name, `\0dashcam-notify-<pid>-<n>`}
   */
  bindPath?: string;
  /** The systemd-notify program. @default {"systemd-notify"} */
  command?: string;
  /** Longest wait for systemd-notify, in ms. @default {10000} */
  timeoutMs?: number;
}

/** Result of {@linkcode notify}; it never throws. */
export interface NotifyResult {
  /** True when the message was handed to the notify socket. */
  sent: boolean;
  /** Transport used; `none` when `NOTIFY_SOCKET` is unset. */
  via: "none" | "datagram" | "systemd-notify";
  /** Why it was not sent. */
  error?: string;
}

/** Reads an environment variable; unset when `--allow-env` does not allow it. */
export function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/**
 * Turns a `$NOTIFY_SOCKET` value into a socket address: a leading `@` means
 * the abstract namespace (`\0` in the address). Only absolute paths and `@`
 * names are valid, as in libsystemd.
 *
 * @example
 * ```ts
 * import { notifySocketAddress } from "./sd_notify.ts";
 * import assert from "node:assert/strict";
 * assert.equal(notifySocketAddress("@sd-notify"), "\0sd-notify");
 * assert.equal(notifySocketAddress("/run/systemd/notify"), "/run/systemd/notify");
 * assert.equal(notifySocketAddress("relative.sock"), null);
 * ```
 * @param value The variable's value.
 * @returns The address, or null when unset or invalid.
 */
export function notifySocketAddress(value: string | undefined): string | null {
  if (value === undefined || value.length < 2) return null;
  if (value.startsWith("@")) return "\0" + value.slice(1);
  if (value.startsWith("/")) return value;
  return null;
}

/**
 * The arguments for `systemd-notify` that send `state` (newline-separated
 * `VAR=value` assignments, as sd_notify takes them).
 *
 * @example
 * ```ts
 * import { systemdNotifyArgs } from "./sd_notify.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(systemdNotifyArgs("READY=1\nSTATUS=Loading models"), ["READY=1", "STATUS=Loading models"]);
 * ```
 * @param state The notification, e.g. `WATCHDOG=1`.
 * @returns Arguments, one assignment each.
 * @throws {SyntaxError} When a line is not `VAR=value`.
 */
export function systemdNotifyArgs(state: string): string[] {
  const lines = state.split("\n").filter((line) => line !== "");
  for (const line of lines) {
    if (!/^[A-Z_][A-Z0-9_]*=/.test(line)) {
      throw new SyntaxError(
        `Cannot notify systemd as a line is not VAR=value: ${
          JSON.stringify(line)
        }`,
      );
    }
  }
  return lines;
}

/** Options for {@linkcode watchdogIntervalMs}. */
export interface WatchdogOptions {
  /** Reads `WATCHDOG_USEC` and `WATCHDOG_PID`. @default {Deno.env} */
  env?: EnvLookup;
  /** This process's PID. @default {Deno.pid} */
  pid?: number;
}

/**
 * How often to send `WATCHDOG=1`: half of `$WATCHDOG_USEC`, as sd_watchdog_enabled
 * advises. Null when the watchdog is off, the value is invalid, or
 * `$WATCHDOG_PID` names another process.
 *
 * @example
 * ```ts
 * import { watchdogIntervalMs } from "./sd_notify.ts";
 * import assert from "node:assert/strict";
 * const env = (n: string) => ({ WATCHDOG_USEC: "30000000" } as Record<string, string>)[n];
 * assert.equal(watchdogIntervalMs({ env }), 15000);
 * ```
 * @param options Environment and PID.
 * @returns Milliseconds between keep-alives, or null.
 */
export function watchdogIntervalMs(
  options: WatchdogOptions = {},
): number | null {
  const { env = readEnv, pid = Deno.pid } = options;
  const usec = env("WATCHDOG_USEC");
  if (usec === undefined || !/^\d+$/.test(usec)) return null;
  const watchdogPid = env("WATCHDOG_PID");
  if (watchdogPid !== undefined && watchdogPid !== String(pid)) return null;
  const ms = Math.floor(Number(usec) / 2000);
  return ms > 0 ? ms : null;
}

let bindCounter = 0;

/**
 * Sends `state` (e.g. `READY=1`, `WATCHDOG=1`, `STOPPING=1`,
 * `STATUS=...`) to systemd. A no-op when `$NOTIFY_SOCKET` is unset. Never
 * throws: the watchdog ping must not bring the daemon down.
 *
 * @param state Newline-separated `VAR=value` assignments.
 * @param options Environment, transport and systemd-notify settings.
 * @returns What was done.
 */
export async function notify(
  state: string,
  options: NotifyOptions = {},
): Promise<NotifyResult> {
  const {
    env = readEnv,
    transport = "auto",
    bindPath,
    command = "systemd-notify",
    timeoutMs = 10_000,
  } = options;
  const raw = env("NOTIFY_SOCKET");
  if (raw === undefined || raw === "") return { sent: false, via: "none" };
  const address = notifySocketAddress(raw);
  if (address === null) {
    return {
      sent: false,
      via: "none",
      error: `NOTIFY_SOCKET is not an absolute path or @name: ${
        JSON.stringify(raw)
      }`,
    };
  }
  let datagramError: string | undefined;
  if (transport !== "systemd-notify") {
    if (hasListenDatagram()) {
      try {
        await sendDatagram(state, address, bindPath);
        return { sent: true, via: "datagram" };
      } catch (err) {
        datagramError = (err as Error).message;
      }
    } else {
      datagramError = "Deno.listenDatagram needs --unstable-net";
    }
    if (transport === "datagram") {
      return { sent: false, via: "datagram", error: datagramError };
    }
  }
  return await runSystemdNotify(state, raw, { command, timeoutMs });
}

type ListenDatagram = (options: {
  transport: "unixpacket";
  path: string;
}) => {
  send(
    data: Uint8Array,
    addr: { transport: "unixpacket"; path: string },
  ): Promise<number>;
  close(): void;
};

function hasListenDatagram(): boolean {
  return typeof (Deno as unknown as { listenDatagram?: unknown })
    .listenDatagram === "function";
}

async function sendDatagram(
  state: string,
  address: string,
  bindPath: string | undefined,
): Promise<void> {
  const listen = (Deno as unknown as { listenDatagram: ListenDatagram })
    .listenDatagram;
  const local = bindPath ??
    `\0dashcam-notify-${Deno.pid}-${bindCounter++}`;
  if (bindPath !== undefined) await Deno.remove(bindPath).catch(() => {});
  const socket = listen({ transport: "unixpacket", path: local });
  try {
    await socket.send(new TextEncoder().encode(state), {
      transport: "unixpacket",
      path: address,
    });
  } finally {
    socket.close();
    if (bindPath !== undefined) await Deno.remove(bindPath).catch(() => {});
  }
}

async function runSystemdNotify(
  state: string,
  socket: string,
  options: { command: string; timeoutMs: number },
): Promise<NotifyResult> {
  let args: string[];
  try {
    args = systemdNotifyArgs(state);
  } catch (err) {
    return {
      sent: false,
      via: "systemd-notify",
      error: (err as Error).message,
    };
  }
  try {
    const out = await new Deno.Command(options.command, {
      args,
      env: { NOTIFY_SOCKET: socket },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      signal: AbortSignal.timeout(options.timeoutMs),
    }).output();
    if (out.success) return { sent: true, via: "systemd-notify" };
    const message = new TextDecoder().decode(out.stderr).trim().split("\n")[0];
    return {
      sent: false,
      via: "systemd-notify",
      error: `${options.command} exited with ${out.code}: ${message}`,
    };
  } catch (err) {
    return {
      sent: false,
      via: "systemd-notify",
      error: `Cannot run ${options.command}: ${(err as Error).message}`,
    };
  }
}
