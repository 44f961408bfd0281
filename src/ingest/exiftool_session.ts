/**
 * One long-lived ExifTool for many files: ExifTool's documented
 * `-stay_open True -@ -` mode (see `man exiftool`, "-stay_open"). Starting
 * ExifTool costs about 0.3 s of CPU (perl and its modules); with one process
 * per engine a clip costs only the reading of its own metadata.
 *
 * Each request writes its arguments one per line on ExifTool's stdin (a
 * file name with a newline, which no line can carry, is read by a one-off
 * {@linkcode runExiftool} instead), then `-echo4 {readyID}` and `-executeID` with an ID made of a
 * random number of this process and a sequence number. ExifTool ends the
 * request's stdout with the line `{readyID}` and, through `-echo4`, its
 * stderr with the same line, so both streams are read up to the request's
 * own marker: output of one file is never given to another.
 *
 * Requests run one at a time, in order. A process that died (killed,
 * crashed) is started again by the next request, once per request; a
 * request that runs past its timeout or is aborted kills the process (the
 * next request starts a new one). Errors are one line naming the file, as
 * with {@linkcode runExiftool}.
 *
 * ExifTool runs behind the perl relay of `stdin_relay.ts`, so that it ends
 * when the daemon does, however the daemon ends (in `-stay_open` mode it
 * never notices on its own). Where perl cannot be started (not installed,
 * or not in `--allow-run`) ExifTool is started directly, as before.
 *
 * @module
 */
import { deadline } from "../shared/mod.ts";
import { childEnv } from "./child_env.ts";
import {
  exiftoolOptions,
  exiftoolSpawnError,
  parseExiftoolOutput,
  runExiftool,
} from "./exiftool.ts";
import { RELAY_NOT_FOUND, relayedCommand } from "./stdin_relay.ts";

/** Options for {@linkcode ExiftoolSession}. */
export interface ExiftoolSessionOptions {
  /** Program to run. @default {"exiftool"} */
  bin?: string;
  /**
   * Longest time one file may take (ms); past it the process is killed and
   * the request fails. -ee3 reads the whole file: a 4 GB clip on a slow SD
   * card (20 MB/s) takes about 200 s. @default {300000}
   */
  timeoutMs?: number;
  /**
   * ExifTool is stopped after this long without a request (ms), and started
   * again by the next one: an idle daemon holds no ExifTool (37 MiB RSS
   * while it reads a clip). @default {2000}
   */
  idleMs?: number;
}

/** Options for one {@linkcode ExiftoolSession.read}. */
export interface ExiftoolReadOptions {
  /** Stops the request (the process is killed, the next request starts one). */
  signal?: AbortSignal;
  /** Overrides the session's timeout for this request (ms). */
  timeoutMs?: number;
}

/** One request: its argument lines (before the marker) and how its output is read. */
interface Request<T> {
  /** What the request is about, for errors: a file's JSON name, or "the version". */
  label: string;
  /** Argument lines, one per line of the `-@` stream. */
  lines: string[];
  /** Reads the request's output. */
  parse: (out: { stdout: string; stderr: string }) => T;
}

/** The process ended before the request's marker (killed, crashed). */
class ExiftoolExited extends Error {}

/**
 * Reads a stream as text and hands out what comes before a marker line.
 */
class MarkedReader {
  #text = "";
  #ended = false;
  #wake: (() => void) | null = null;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#pump(stream);
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    const dec = new TextDecoder();
    try {
      for await (const chunk of stream) {
        this.#text += dec.decode(chunk, { stream: true });
        this.#notify();
      }
    } catch {
      /* the process was killed */
    } finally {
      this.#ended = true;
      this.#notify();
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /**
   * The text before the line `marker` (removed with it).
   *
   * @throws {ExiftoolExited} When the stream ends first.
   */
  async take(marker: string): Promise<string> {
    const line = `${marker}\n`;
    let from = 0;
    for (;;) {
      let at = this.#text.startsWith(line) ? 0 : -1;
      if (at < 0) {
        const i = this.#text.indexOf(`\n${line}`, from);
        if (i >= 0) at = i + 1;
      }
      if (at >= 0) {
        const before = this.#text.slice(0, at);
        this.#text = this.#text.slice(at + line.length);
        return before;
      }
      if (this.#ended) throw new ExiftoolExited("exiftool stopped");
      from = Math.max(0, this.#text.length - line.length);
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
  }
}

/** A running ExifTool and its streams. */
interface Proc {
  child: Deno.ChildProcess;
  stdin: WritableStreamDefaultWriter<Uint8Array>;
  stdout: MarkedReader;
  stderr: MarkedReader;
  exited: boolean;
  status: Promise<Deno.CommandStatus>;
  /** The signal that ends it with ExifTool: SIGTERM for the relay (which kills ExifTool), SIGKILL for ExifTool itself. */
  stopSignal: Deno.Signal;
}

/**
 * A file name as one `-@` argument line, or null when no line can carry it
 * (a newline or carriage return in it). ExifTool strips white space at the
 * start of a line, skips lines starting with "#" and reads "-…" as an
 * option, so a relative name starting with any of them is given as "./…".
 * (`#[CSTR]` lines would carry a newline but turn "$" and "@" into "\$" and
 * "\@": ExifTool 12.57's FilterArgfileLine.) Pure.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(argLineOfPath("-x.mp4"), "./-x.mp4");
 * assert.equal(argLineOfPath("/sd/a\nb.mp4"), null);
 * ```
 * @param path The file.
 * @returns The line, without its newline, or null.
 */
export function argLineOfPath(path: string): string | null {
  if (/[\r\n]/.test(path)) return null;
  return /^[-#\s]/.test(path) ? `./${path}` : path;
}

/**
 * One ExifTool process reading many files, started on the first request.
 *
 * @example
 * ```ts ignore
 * const exif = new ExiftoolSession();
 * try {
 *   const record = await exif.read("/sd/clip.mp4");
 * } finally {
 *   await exif.close();
 * }
 * ```
 */
export class ExiftoolSession {
  #bin: string;
  #timeoutMs: number;
  #proc: Proc | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  #nonce = String(
    100_000 + crypto.getRandomValues(new Uint32Array(1))[0]! %
        900_000,
  );
  #seq = 0;
  #closed = false;
  #busy = false;
  #idleMs: number;
  #pending = 0;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #onUnload = () => this.#kill();

  /**
   * Makes the session (no process yet).
   *
   * @param options Program and timeout.
   */
  constructor(options: ExiftoolSessionOptions = {}) {
    this.#bin = options.bin ?? "exiftool";
    this.#timeoutMs = options.timeoutMs ?? 300_000;
    this.#idleMs = options.idleMs ?? 2000;
  }

  /** The running ExifTool's process id, or null when none runs (for tests and logs). */
  get pid(): number | null {
    return this.#proc && !this.#proc.exited ? this.#proc.child.pid : null;
  }

  /**
   * Reads one file; requests are served one at a time, in order.
   *
   * @param path The file.
   * @param options Cancellation, timeout.
   * @returns The file's record (`Doc<N>:Tag` keys), as {@linkcode runExiftool} gives it.
   * @throws {Error} One line naming the file when ExifTool fails, is missing, stops twice, or times out.
   */
  read(
    path: string,
    options: ExiftoolReadOptions = {},
  ): Promise<Record<string, unknown>> {
    if (argLineOfPath(path) === null) {
      // No argument line carries this name: a one-off run, as before.
      return runExiftool(path, {
        bin: this.#bin,
        ...(options.signal ? { signal: options.signal } : {}),
      });
    }
    return this.#enqueue({
      label: JSON.stringify(path),
      lines: [...exiftoolOptions(), argLineOfPath(path)!],
      parse: (out) => parseExiftoolOutput(path, out),
    }, options);
  }

  /**
   * ExifTool's version (`-ver`), read by the session's process: a check
   * that ExifTool runs which leaves it started for the first file.
   *
   * @returns E.g. "12.57".
   * @throws {Error} One line when ExifTool is missing or stops, as {@linkcode read}.
   */
  version(): Promise<string> {
    return this.#enqueue({
      label: "the version",
      lines: ["-ver"],
      parse: (out) => out.stdout.trim(),
    }, {});
  }

  #enqueue<T>(request: Request<T>, options: ExiftoolReadOptions): Promise<T> {
    clearTimeout(this.#idleTimer);
    this.#pending++;
    const run = this.#queue.then(() => this.#request(request, options));
    this.#queue = run.catch(() => {}).finally(() => {
      if (--this.#pending === 0 && !this.#closed) this.#armIdle();
    });
    return run;
  }

  /**
   * Stops ExifTool (`-stay_open False`; killed if it has not ended within
   * 2 s). A request under way and later ones fail.
   */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    // A request under way is cut off (its file may take minutes).
    if (this.#busy && this.#proc) killProc(this.#proc);
    await this.#queue;
    await this.#stop();
  }

  #armIdle(): void {
    clearTimeout(this.#idleTimer);
    const timer = setTimeout(() => {
      if (this.#pending === 0 && !this.#closed) this.#stop();
    }, this.#idleMs);
    Deno.unrefTimer(timer);
    this.#idleTimer = timer;
  }

  /** Ends the running ExifTool, if any; the next request starts one. */
  async #stop(): Promise<void> {
    const proc = this.#proc;
    this.#proc = null;
    if (!proc) return;
    globalThis.removeEventListener("unload", this.#onUnload);
    if (!proc.exited) {
      try {
        await proc.stdin.write(
          new TextEncoder().encode("-stay_open\nFalse\n"),
        );
        await proc.stdin.close();
      } catch { /* already gone */ }
      const ended = await deadline(proc.status, 2000).then(
        () => true,
        () => false,
      );
      if (!ended) killProc(proc);
    }
    await proc.status;
  }

  async #request<T>(
    request: Request<T>,
    options: ExiftoolReadOptions,
  ): Promise<T> {
    const fail = (why: string) =>
      new Error(`Cannot read GPS of ${request.label} with exiftool: ${why}`);
    options.signal?.throwIfAborted();
    let restarts = 0;
    this.#busy = true;
    try {
      for (;;) {
        if (this.#closed) throw fail("the ExifTool session is closed");
        if (this.#proc?.exited) {
          this.#proc = null;
          restarts++;
        }
        if (restarts > 1) throw fail("exiftool stopped twice");
        const proc = this.#proc ?? this.#start();
        try {
          return await this.#exchange(proc, request, options);
        } catch (err) {
          if (!(err instanceof ExiftoolExited)) throw err;
          // ExifTool ended: the relay, if still there, goes with it.
          killProc(proc);
          const status = await proc.status;
          if (
            status.code === RELAY_NOT_FOUND && proc.stopSignal === "SIGTERM"
          ) {
            throw exiftoolSpawnError(
              this.#bin,
              new Deno.errors.NotFound(this.#bin),
            );
          }
          proc.exited = true; // started again on the next turn, if allowed
        }
      }
    } finally {
      this.#busy = false;
    }
  }

  #start(): Proc {
    const args = ["-stay_open", "True", "-@", "-"];
    const spawn = (program: string, args: string[]) =>
      new Deno.Command(program, {
        args,
        clearEnv: true,
        env: childEnv(),
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    let child: Deno.ChildProcess;
    let stopSignal: Deno.Signal = "SIGTERM";
    try {
      const relay = relayedCommand(this.#bin, args);
      child = spawn(relay.program, relay.args);
    } catch {
      // No perl to run the relay (or not allowed): ExifTool on its own.
      stopSignal = "SIGKILL";
      try {
        child = spawn(this.#bin, args);
      } catch (err) {
        throw exiftoolSpawnError(this.#bin, err);
      }
    }
    const proc: Proc = {
      child,
      stdin: child.stdin.getWriter(),
      stdout: new MarkedReader(child.stdout),
      stderr: new MarkedReader(child.stderr),
      exited: false,
      status: child.status,
      stopSignal,
    };
    proc.status.then(() => proc.exited = true);
    // A daemon that exits without close() leaves no ExifTool polling its pipe.
    globalThis.addEventListener("unload", this.#onUnload);
    this.#proc = proc;
    return proc;
  }

  #kill(): void {
    if (this.#proc) killProc(this.#proc);
  }

  async #exchange<T>(
    proc: Proc,
    request: Request<T>,
    options: ExiftoolReadOptions,
  ): Promise<T> {
    const id = `${this.#nonce}${++this.#seq}`;
    const marker = `{ready${id}}`;
    const lines = [
      ...request.lines,
      "-echo4",
      marker,
      `-execute${id}`,
    ];
    const work = (async () => {
      try {
        await proc.stdin.write(
          new TextEncoder().encode(lines.join("\n") + "\n"),
        );
      } catch {
        throw new ExiftoolExited("exiftool stopped");
      }
      const [stdout, stderr] = await Promise.all([
        proc.stdout.take(marker),
        proc.stderr.take(marker),
      ]);
      return request.parse({ stdout, stderr });
    })();
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    let cutOff = false;
    const cut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        cutOff = true;
        reject(
          new Error(
            `Cannot read GPS of ${request.label} with exiftool: no answer within ${
              timeoutMs / 1000
            } s`,
          ),
        );
      }, timeoutMs);
      onAbort = () => {
        cutOff = true;
        reject(options.signal!.reason);
      };
      options.signal?.addEventListener("abort", onAbort, { once: true });
    });
    try {
      return await Promise.race([work, cut]);
    } catch (err) {
      if (cutOff) {
        // Timed out or aborted: the process may still be busy with the file.
        work.catch(() => {});
        if (this.#proc === proc) this.#proc = null;
        killProc(proc);
        await proc.status;
      }
      throw err;
    } finally {
      clearTimeout(timer);
      if (onAbort) options.signal?.removeEventListener("abort", onAbort);
    }
  }
}

/** Kills ExifTool (and its relay), which may have ended already. */
function killProc(proc: Proc): void {
  if (proc.exited) return;
  try {
    proc.child.kill(proc.stopSignal);
  } catch { /* already gone */ }
}
