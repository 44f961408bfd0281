/**
 * Inbox watching: finds complete video clips in the configured inbox folders
 * (the dashcam's SD-card folder, USB mount points).
 *
 * Two sources feed one scanner: `Deno.watchFs` events (fast) and a periodic
 * full rescan (events get lost across remounts and for files created right
 * after their folder). A clip is reported only when it is complete: its size
 * and mtime have not changed for the settle time ({@linkcode decideReady}) and
 * no process has it open for writing ({@linkcode openForWriting}). Each path
 * is reported once per (path, size, mtime).
 *
 * Limits of the completeness check:
 * - `/proc/<pid>/fd` is readable only for the watcher's own user's processes
 *   (all processes when run as root). A writer running as another user, on
 *   another machine (network share) or inside the camera itself is invisible:
 *   there, only the settle time protects, so a writer that pauses longer than
 *   the settle time can still get a clip reported early (it is then reported
 *   again with its new size and mtime).
 * - File names that are not valid UTF-8 cannot be named through Deno's APIs
 *   (they come back with U+FFFD); such files are skipped with a warning.
 *   A watch event naming one rejects that read only: the watch goes on and
 *   the folder is walked again (the event's path is lost).
 * - An empty clip is never ready (cameras create the file first); it is
 *   noted once ("waiting for data"), and once more as a warning when it
 *   stays empty past the settle time.
 * - Symlinks are never followed, hidden files (names starting with `.`, e.g.
 *   macOS `._clip.mp4` resource forks) are skipped.
 * - Deno (since 1.43) reads `/proc` only under `--allow-all`, whatever
 *   `--allow-read` says. With scoped permissions the check is skipped, with
 *   one warning, and the settle time alone decides. Under the systemd unit
 *   (`User=dashcam`, `ProtectProc=invisible`) only the daemon's own processes
 *   would be visible anyway, so the check matters for runs as root or by the
 *   writer's own user (development, tests).
 *
 * Permissions: `--allow-read` for the inbox folders (`--allow-all` for the
 * `/proc` check, see above).
 *
 * @module
 */
import { dirname, extname, join, resolve } from "node:path";
import { log as defaultLog, type Logger } from "../log/mod.ts";

/** File extensions taken as video clips (lower case, without the dot). */
export const VIDEO_EXTENSIONS: readonly string[] = [
  "mp4",
  "mov",
  "avi",
  "mkv",
  "ts",
  "m4v",
];

/** Size and modification time of a file, as `lstat` gives them. */
export interface FileSample {
  /** Size in bytes. */
  size: number;
  /** Modification time in ms since the epoch. */
  mtimeMs: number;
}

/** What the settle rule remembers about a file between two looks. */
export interface SettleState extends FileSample {
  /** Clock time (ms) at which this size and mtime were first seen. */
  since: number;
}

/** Result of {@linkcode decideReady}. */
export interface SettleDecision {
  /** State to remember for the next look. */
  state: SettleState;
  /** True when the file has been unchanged for the settle time. */
  ready: boolean;
}

/** Options for {@linkcode decideReady}. */
export interface DecideReadyOptions {
  /** The current clock time in ms. */
  now: number;
  /** How long size and mtime must stay unchanged, in ms. */
  settleMs: number;
}

/**
 * The settle rule: a file is ready once its size and mtime are the same as at
 * an earlier look made at least `settleMs` ago. Empty files are never ready
 * (cameras create the file first and fill it later). Pure.
 *
 * @example Ready after the settle time
 * ```ts
 * import { decideReady } from "./watch.ts";
 * import assert from "node:assert/strict";
 * const first = decideReady(undefined, { size: 10, mtimeMs: 5 }, { now: 0, settleMs: 3000 });
 * assert.equal(first.ready, false);
 * const later = decideReady(first.state, { size: 10, mtimeMs: 5 }, { now: 3000, settleMs: 3000 });
 * assert.equal(later.ready, true);
 * ```
 * @param prev What was remembered from the previous look, if any.
 * @param current The file's size and mtime now.
 * @param options The clock time and the settle time.
 * @returns The state to remember and whether the file is ready.
 */
export function decideReady(
  prev: SettleState | undefined,
  current: FileSample,
  options: DecideReadyOptions,
): SettleDecision {
  const { now, settleMs } = options;
  const unchanged = prev !== undefined && prev.size === current.size &&
    prev.mtimeMs === current.mtimeMs;
  if (!unchanged) {
    return {
      state: { size: current.size, mtimeMs: current.mtimeMs, since: now },
      ready: false,
    };
  }
  return {
    state: prev,
    ready: current.size > 0 && now - prev.since >= settleMs,
  };
}

/**
 * Returns true when `name` has one of `extensions` (case-insensitive).
 *
 * @example
 * ```ts
 * import { isVideoName, VIDEO_EXTENSIONS } from "./watch.ts";
 * import assert from "node:assert/strict";
 * assert.equal(isVideoName("CLIP0001.MP4", VIDEO_EXTENSIONS), true);
 * assert.equal(isVideoName("clip.mp4.part", VIDEO_EXTENSIONS), false);
 * ```
 * @param name A file name or path.
 * @param extensions Lower-case extensions without the dot.
 * @returns Whether the name is a video one.
 */
export function isVideoName(
  name: string,
  extensions: readonly string[],
): boolean {
  const ext = extname(name).slice(1).toLowerCase();
  return ext !== "" && extensions.includes(ext);
}

/** Result of {@linkcode openForWriting}. */
export interface OpenWriters {
  /** The asked paths that some process has open for writing. */
  open: Set<string>;
  /** False when `/proc` could not be read at all (nothing was checked). */
  checked: boolean;
  /** Processes whose fd table could not be read (other users' processes). */
  unreadable: number;
  /** Why nothing was checked, when `checked` is false. */
  reason?: string;
}

/** Options for {@linkcode openForWriting}. */
export interface OpenForWritingOptions {
  /** Where procfs is mounted. @default {"/proc"} */
  procDir?: string;
}

/**
 * Finds which of `paths` some process has open for writing, by reading the
 * `/proc/<pid>/fd` links and the access mode in `/proc/<pid>/fdinfo/<fd>`.
 * Only processes whose fd table is readable are seen (see the module doc).
 *
 * @param paths Files to look for (compared by their real path).
 * @param options Where procfs is.
 * @returns The paths open for writing, and how complete the check was.
 */
export async function openForWriting(
  paths: readonly string[],
  options: OpenForWritingOptions = {},
): Promise<OpenWriters> {
  const { procDir = "/proc" } = options;
  const result: OpenWriters = {
    open: new Set(),
    checked: false,
    unreadable: 0,
  };
  const wanted = new Map<string, string>();
  for (const path of paths) {
    try {
      wanted.set(await Deno.realPath(path), path);
    } catch {
      // Gone since it was seen: nothing to check.
    }
  }
  let pids: string[];
  try {
    pids = [];
    for await (const entry of Deno.readDir(procDir)) {
      if (/^\d+$/.test(entry.name)) pids.push(entry.name);
    }
  } catch (err) {
    // Deno asks for --allow-all to read /proc, whatever --allow-read says.
    return { ...result, reason: (err as Error).message };
  }
  result.checked = true;
  if (wanted.size === 0) return result;
  for (const pid of pids) {
    const fdDir = join(procDir, pid, "fd");
    let fds: string[];
    try {
      fds = [];
      for await (const entry of Deno.readDir(fdDir)) fds.push(entry.name);
    } catch {
      result.unreadable++;
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = await Deno.readLink(join(fdDir, fd));
      } catch {
        continue;
      }
      const path = wanted.get(target);
      if (path === undefined || result.open.has(path)) continue;
      if (await fdIsWritable(join(procDir, pid, "fdinfo", fd))) {
        result.open.add(path);
      }
    }
  }
  return result;
}

/** Reads the `flags:` line of an fdinfo file; unreadable counts as writable. */
async function fdIsWritable(fdinfoPath: string): Promise<boolean> {
  try {
    const text = await Deno.readTextFile(fdinfoPath);
    const match = /^flags:\s*([0-7]+)$/m.exec(text);
    if (!match) return true;
    // O_ACCMODE is 3: 0 is O_RDONLY, 1 O_WRONLY, 2 O_RDWR.
    return (parseInt(match[1], 8) & 0o3) !== 0;
  } catch {
    // The fd was closed in between, or fdinfo is hidden: err on the safe side.
    return true;
  }
}

/** A complete clip, as handed to `onClip`. */
export interface InboxClip {
  /** Size in bytes when it was found complete. */
  size: number;
  /** Modification time in ms since the epoch. */
  mtimeMs: number;
  /** The inbox folder (absolute) it was found under. */
  inboxDir: string;
}

/** Options for {@linkcode InboxWatcher}. */
export interface InboxWatcherOptions {
  /** Inbox folders to watch (recursively). Missing ones are waited for. */
  dirs: readonly string[];
  /**
   * Called once per complete clip (path, size, mtime), one call at a time. If
   * it throws, the clip is offered again after a later rescan.
   */
  onClip: (path: string, clip: InboxClip) => void | Promise<void>;
  /** How long size and mtime must stay unchanged, in ms. @default {3000} */
  settleMs?: number;
  /** Interval of the full rescan, in ms. @default {10000} */
  rescanMs?: number;
  /** Interval of the re-checks of clips not yet settled, in ms. @default {1000} */
  pollMs?: number;
  /** Video extensions, lower case. @default {VIDEO_EXTENSIONS} */
  extensions?: readonly string[];
  /** Deepest folder level walked below an inbox folder. @default {8} */
  maxDepth?: number;
  /** Use `Deno.watchFs` besides the rescan. @default {true} */
  watch?: boolean;
  /** Finds files open for writing. @default {openForWriting} */
  openWriters?: (paths: readonly string[]) => Promise<OpenWriters>;
  /** Clock in ms (tests pass their own). @default {Date.now} */
  now?: () => number;
  /** Logger. @default {the process logger, with `component=inbox`} */
  log?: Logger;
}

interface RootState {
  dir: string;
  /** null before the first check. */
  present: boolean | null;
  /** `dev:ino` of the folder when last seen. */
  key: string | null;
  watcher: Deno.FsWatcher | null;
  pump: Promise<void> | null;
  /** A watch event could not be read (a non-UTF-8 name): walk it again. */
  rewalk: boolean;
}

/** Wait after a watch event before looking, so a burst is handled at once. */
const EVENT_DEBOUNCE_MS = 50;

/** Log lines repeated for the same path are written once; this caps memory. */
const MAX_NOTED = 10_000;

/**
 * Watches inbox folders and reports complete video clips.
 *
 * @example Drive it by hand with an injected clock
 * ```ts
 * import { InboxWatcher } from "./watch.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.mp4`, "video");
 * const found: string[] = [];
 * const w = new InboxWatcher({ dirs: [dir], onClip: (p) => { found.push(p); }, watch: false });
 * await w.scanOnce(0);
 * await w.scanOnce(3000);
 * assert.deepEqual(found, [`${dir}/a.mp4`]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class InboxWatcher {
  #roots: RootState[];
  #onClip: InboxWatcherOptions["onClip"];
  #settleMs: number;
  #rescanMs: number;
  #pollMs: number;
  #extensions: readonly string[];
  #maxDepth: number;
  #watch: boolean;
  #openWriters: (paths: readonly string[]) => Promise<OpenWriters>;
  #now: () => number;
  #log: Logger;

  /** Files seen but not yet reported. */
  #pending = new Map<string, SettleState>();
  /** `size:mtime` of each reported path. */
  #reported = new Map<string, string>();
  /** Keys of log lines already written (once per path and reason). */
  #noted = new Set<string>();
  /** Paths named by watch events since the last check. */
  #dirty = new Set<string>();
  #procWarned = false;

  #loop: Promise<void> | null = null;
  #closed = false;
  #wake: (() => void) | null = null;
  #interrupt: (() => void) | null = null;
  #busy: Promise<unknown> = Promise.resolve();

  /** Creates a watcher; call {@linkcode InboxWatcher.start} to run it. */
  constructor(options: InboxWatcherOptions) {
    const {
      dirs,
      onClip,
      settleMs = 3000,
      rescanMs = 10_000,
      pollMs = 1000,
      extensions = VIDEO_EXTENSIONS,
      maxDepth = 8,
      watch = true,
      openWriters = openForWriting,
      now = Date.now,
      log = defaultLog.child({ component: "inbox" }),
    } = options;
    if (settleMs < 0) {
      throw new RangeError(
        `Cannot watch the inbox as 'settleMs' must be >= 0: current value is ${settleMs}`,
      );
    }
    if (rescanMs <= 0 || pollMs <= 0) {
      throw new RangeError(
        `Cannot watch the inbox as 'rescanMs' and 'pollMs' must be > 0: current values are ${rescanMs} and ${pollMs}`,
      );
    }
    const unique = [...new Set(dirs.map((d) => resolve(d)))];
    this.#roots = unique.map((dir) => ({
      dir,
      present: null,
      key: null,
      watcher: null,
      pump: null,
      rewalk: false,
    }));
    this.#onClip = onClip;
    this.#settleMs = settleMs;
    this.#rescanMs = rescanMs;
    this.#pollMs = pollMs;
    this.#extensions = extensions.map((e) => e.toLowerCase());
    this.#maxDepth = maxDepth;
    this.#watch = watch;
    this.#openWriters = openWriters;
    this.#now = now;
    this.#log = log;
  }

  /** Files seen but not yet reported (for health metrics). */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Clips reported and still in the inbox (remembered so they are not reported twice). */
  get reportedCount(): number {
    return this.#reported.size;
  }

  /** Starts watching and rescanning in the background. */
  start(): void {
    if (this.#loop || this.#closed) return;
    this.#loop = this.#run();
  }

  /** Stops watching; resolves once the background loop has ended. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#interrupt?.();
    for (const root of this.#roots) this.#stopWatch(root);
    await this.#loop;
    await Promise.all(this.#roots.map((r) => r.pump));
  }

  /**
   * Walks every inbox folder once, updates what is pending and reports the
   * clips that are complete at `now`. Tests drive it with their own clock.
   *
   * @param now Clock time in ms.
   * @returns Paths reported by this call.
   */
  scanOnce(now: number = this.#now()): Promise<string[]> {
    return this.#exclusive(async () => {
      this.#dirty.clear();
      const seen = new Set<string>();
      const ready: string[] = [];
      for (const root of this.#roots) {
        await this.#checkRoot(root);
        if (root.present) {
          await this.#walk(root.dir, 0, { now, seen, ready });
        }
      }
      for (const path of [...this.#pending.keys()]) {
        if (!seen.has(path)) this.#pending.delete(path);
      }
      // Clips reported once and gone from the inbox since (deleted, or the
      // camera's loop recording moved on) are forgotten, so the map holds
      // the inbox's clips, not every clip of the daemon's life. A folder not
      // there now (card pulled) keeps its entries.
      for (const path of [...this.#reported.keys()]) {
        if (seen.has(path) || this.#rootOf(path)?.present !== true) continue;
        await Deno.lstat(path).catch((err) => {
          if (err instanceof Deno.errors.NotFound) this.#reported.delete(path);
        });
      }
      return await this.#report(ready);
    });
  }

  /**
   * The cheap check between rescans: notes inbox folders that went away or
   * came back (walking those that came back), looks at the paths named by
   * watch events since the last call and again at the files not yet
   * reported, and reports those complete at `now`.
   *
   * @param now Clock time in ms.
   * @returns Paths reported by this call.
   */
  checkPending(now: number = this.#now()): Promise<string[]> {
    return this.#exclusive(async () => {
      const ready: string[] = [];
      const seen = new Set<string>();
      const dirty = [...this.#dirty];
      this.#dirty.clear();
      for (const root of this.#roots) {
        const before = { present: root.present, key: root.key };
        await this.#checkRoot(root);
        const back = before.present !== true || before.key !== root.key ||
          root.rewalk;
        root.rewalk = false;
        if (root.present && back) {
          await this.#walk(root.dir, 0, { now, seen, ready });
        }
      }
      for (const path of dirty) {
        const root = this.#rootOf(path);
        if (root === undefined || seen.has(path)) continue;
        const st = await this.#lstat(path);
        if (st === null) {
          this.#pending.delete(path);
          continue;
        }
        const segments = path.slice(root.dir.length + 1).split("/");
        // Inside a hidden folder (.Trashes, .Spotlight-V100): not walked either.
        if (segments.slice(0, -1).some((seg) => seg.startsWith("."))) continue;
        if (!(await this.#noLinkBetween(root, path))) continue;
        if (st.isDirectory) {
          if (segments[segments.length - 1].startsWith(".")) continue;
          const depth = segments.length;
          await this.#walk(path, depth, { now, seen, ready });
        } else {
          await this.#consider(path, st, { now, seen, ready });
        }
      }
      for (const path of [...this.#pending.keys()]) {
        if (seen.has(path)) continue;
        const st = await this.#lstat(path);
        if (st === null) {
          this.#pending.delete(path);
          continue;
        }
        await this.#consider(path, st, { now, seen, ready });
      }
      return await this.#report(ready);
    });
  }

  // ---- background loop -----------------------------------------------------

  async #run(): Promise<void> {
    let nextRescan = this.#now();
    let nextPoll = nextRescan;
    while (!this.#closed) {
      const now = this.#now();
      try {
        if (now >= nextRescan) {
          await this.scanOnce(now);
          nextRescan = now + this.#rescanMs;
          nextPoll = now + this.#pollMs;
        } else {
          await this.checkPending(now);
          if (now >= nextPoll) nextPoll = now + this.#pollMs;
        }
      } catch (err) {
        this.#log.error("inbox scan failed; retrying", {
          error: (err as Error).message,
        });
      }
      if (this.#closed) break;
      const later = this.#now();
      const missing = this.#roots.some((r) => !r.present);
      const until = this.#pending.size > 0 || missing
        ? Math.min(nextPoll, nextRescan)
        : nextRescan;
      await this.#sleep(Math.max(10, until - later));
    }
  }

  /**
   * Waits `ms`, or less: a watch event shortens the wait to
   * {@linkcode EVENT_DEBOUNCE_MS} (a copy sends many events), `close()` ends it.
   */
  #sleep(ms: number): Promise<void> {
    const first = this.#dirty.size > 0 ? Math.min(ms, EVENT_DEBOUNCE_MS) : ms;
    return new Promise<void>((resolveSleep) => {
      let timer = setTimeout(done, first);
      let shortened = first <= EVENT_DEBOUNCE_MS;
      this.#wake = () => {
        if (shortened) return;
        shortened = true;
        clearTimeout(timer);
        timer = setTimeout(done, EVENT_DEBOUNCE_MS);
      };
      this.#interrupt = done;
      function done() {
        clearTimeout(timer);
        resolveSleep();
      }
    }).then(() => {
      this.#wake = null;
      this.#interrupt = null;
    });
  }

  /** Runs scans one at a time (the loop and tests share the state). */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#busy.then(fn);
    this.#busy = run.catch(() => {});
    return run;
  }

  // ---- roots -----------------------------------------------------------------

  /** Notes whether an inbox folder is there, and (re)starts its watch. */
  async #checkRoot(root: RootState): Promise<void> {
    let st: Deno.FileInfo | null = null;
    let problem = "";
    try {
      st = await Deno.stat(root.dir);
      if (!st.isDirectory) problem = "not a folder";
    } catch (err) {
      problem = err instanceof Deno.errors.NotFound
        ? "missing"
        : (err as Error).message;
    }
    if (st === null || problem !== "") {
      if (root.present !== false) {
        this.#log.warn(
          "inbox folder is not available (SD card or drive out?); waiting for it to come back",
          { dir: root.dir, reason: problem },
        );
      }
      root.present = false;
      root.key = null;
      this.#stopWatch(root);
      return;
    }
    const key = `${st.dev}:${st.ino}`;
    if (root.present === false) {
      this.#log.info("inbox folder is back; watching it again", {
        dir: root.dir,
      });
    } else if (root.present === null) {
      this.#log.info("watching inbox folder", { dir: root.dir });
    } else if (root.key !== key) {
      this.#log.info(
        "inbox folder was replaced (remounted?); watching it again",
        {
          dir: root.dir,
        },
      );
      this.#stopWatch(root);
    }
    root.present = true;
    root.key = key;
    if (this.#watch && root.watcher === null && !this.#closed) {
      this.#startWatch(root);
    }
  }

  #startWatch(root: RootState): void {
    let watcher: Deno.FsWatcher;
    try {
      watcher = Deno.watchFs(root.dir, { recursive: true });
    } catch (err) {
      this.#noteOnce("warn", "cannot watch inbox folder; relying on rescans", {
        path: root.dir,
        error: (err as Error).message,
      });
      return;
    }
    root.watcher = watcher;
    root.pump = this.#pump(root, watcher);
  }

  async #pump(root: RootState, watcher: Deno.FsWatcher): Promise<void> {
    // Read by hand, not with for-await: an event naming a file whose name is
    // not valid UTF-8 rejects one read (TypeError), and for-await would end
    // the watch of the whole inbox. The watcher itself goes on.
    const events = watcher[Symbol.asyncIterator]();
    while (true) {
      let next: IteratorResult<Deno.FsEvent>;
      try {
        next = await events.next();
      } catch (err) {
        if (!this.#closed && isBadNameError(err)) {
          this.#noteOnce(
            "warn",
            "a file name in the inbox is not valid UTF-8; that file is skipped, the rest is watched",
            { path: root.dir },
          );
          // The event's path is lost: walk the folder again to see the rest.
          root.rewalk = true;
          this.#wake?.();
          continue;
        }
        if (!this.#closed) {
          this.#log.warn("inbox watch stopped; relying on rescans", {
            dir: root.dir,
            error: (err as Error).message,
          });
        }
        break;
      }
      if (next.done) break;
      for (const path of next.value.paths) {
        // Events on the folder itself only wake the loop, which re-checks it.
        if (path !== root.dir) this.#dirty.add(path);
      }
      this.#wake?.();
    }
    if (root.watcher === watcher) {
      root.watcher = null;
      root.pump = null;
    }
  }

  #stopWatch(root: RootState): void {
    if (root.watcher === null) return;
    try {
      root.watcher.close();
    } catch {
      // Already closed.
    }
    root.watcher = null;
  }

  /**
   * True when no folder between the inbox folder and `path` is a symlink
   * (watch events may come from inside a linked folder).
   */
  async #noLinkBetween(root: RootState, path: string): Promise<boolean> {
    try {
      const rootReal = await Deno.realPath(root.dir);
      const parent = dirname(path);
      const parentReal = await Deno.realPath(parent);
      return parentReal === rootReal + parent.slice(root.dir.length);
    } catch {
      return false;
    }
  }

  #rootOf(path: string): RootState | undefined {
    return this.#roots.find((r) =>
      r.present && (path === r.dir || path.startsWith(r.dir + "/"))
    );
  }

  // ---- walking and deciding ---------------------------------------------------

  async #walk(dir: string, depth: number, scan: ScanState): Promise<void> {
    if (depth > this.#maxDepth) {
      this.#noteOnce("warn", "folder too deep in the inbox; not walked", {
        path: dir,
        max_depth: this.#maxDepth,
      });
      return;
    }
    let entries: Deno.DirEntry[];
    try {
      entries = [];
      for await (const entry of Deno.readDir(dir)) entries.push(entry);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) {
        this.#noteOnce("warn", "cannot read inbox folder", {
          path: dir,
          error: (err as Error).message,
        });
      }
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isSymlink) {
        await this.#skipSymlink(path);
      } else if (entry.isDirectory) {
        if (entry.name.startsWith(".")) continue;
        await this.#walk(path, depth + 1, scan);
      } else if (entry.isFile) {
        const st = await this.#lstat(path);
        if (st !== null) await this.#consider(path, st, scan);
      }
    }
  }

  /** Applies the filters and the settle rule to one file. */
  async #consider(
    path: string,
    st: Deno.FileInfo,
    scan: ScanState,
  ): Promise<void> {
    if (st.isSymlink) {
      await this.#skipSymlink(path);
      return;
    }
    if (!st.isFile) return;
    const name = path.slice(path.lastIndexOf("/") + 1);
    if (name.startsWith(".")) {
      this.#noteOnce("debug", "hidden file in the inbox; ignored", { path });
      return;
    }
    if (!isVideoName(name, this.#extensions)) {
      this.#noteOnce("debug", "not a video file; ignored", { path });
      return;
    }
    scan.seen.add(path);
    const sample = { size: st.size, mtimeMs: st.mtime?.getTime() ?? 0 };
    if (this.#reported.get(path) === signature(sample)) {
      this.#pending.delete(path);
      return;
    }
    const decision = decideReady(this.#pending.get(path), sample, {
      now: scan.now,
      settleMs: this.#settleMs,
    });
    this.#pending.set(path, decision.state);
    if (sample.size === 0) {
      // Cameras create the file first and fill it later; one that stays
      // empty is worth a look (full card, crashed writer).
      this.#noteOnce("info", "clip is empty; waiting for data", { path });
      if (scan.now - decision.state.since >= this.#settleMs) {
        this.#noteOnce(
          "warn",
          "clip is still empty after the settle time; waiting for data",
          { path, settle_ms: this.#settleMs },
        );
      }
    }
    if (decision.ready && !scan.ready.includes(path)) scan.ready.push(path);
  }

  async #skipSymlink(path: string): Promise<void> {
    let target: string;
    try {
      target = resolve(dirname(path), await Deno.readLink(path));
    } catch (err) {
      this.#noteOnce("warn", "cannot read symlink in the inbox; skipped", {
        path,
        error: (err as Error).message,
      });
      return;
    }
    const inside = this.#roots.some((r) =>
      target === r.dir || target.startsWith(r.dir + "/")
    );
    if (inside) {
      this.#noteOnce("debug", "symlink in the inbox not followed", {
        path,
        target,
      });
    } else {
      this.#noteOnce(
        "warn",
        "symlink points outside the inbox; not followed",
        { path, target },
      );
    }
  }

  /** lstat that maps "gone" to null and never throws. */
  async #lstat(path: string): Promise<Deno.FileInfo | null> {
    try {
      return await Deno.lstat(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound && path.includes("\uFFFD")) {
        this.#noteOnce(
          "warn",
          "file name is not valid UTF-8 and cannot be opened; rename it to take it",
          { path },
        );
      } else if (!(err instanceof Deno.errors.NotFound)) {
        this.#noteOnce("warn", "cannot stat inbox file", {
          path,
          error: (err as Error).message,
        });
      }
      return null;
    }
  }

  /** Drops files still open for writing, then hands the rest to `onClip`. */
  async #report(ready: string[]): Promise<string[]> {
    if (ready.length === 0) return [];
    const writers = await this.#openWriters(ready);
    if (!writers.checked && !this.#procWarned) {
      this.#procWarned = true;
      this.#log.warn(
        "cannot read /proc to see which clips are still being written; relying on the settle time",
        { settle_ms: this.#settleMs, reason: writers.reason },
      );
    }
    const reported: string[] = [];
    for (const path of ready) {
      const state = this.#pending.get(path);
      if (state === undefined) continue;
      if (writers.open.has(path)) {
        this.#noteOnce(
          "info",
          "clip is unchanged but still open for writing; waiting",
          {
            path,
          },
        );
        continue;
      }
      this.#pending.delete(path);
      const sig = signature(state);
      this.#reported.set(path, sig);
      const root = this.#rootOf(path);
      try {
        await this.#onClip(path, {
          size: state.size,
          mtimeMs: state.mtimeMs,
          inboxDir: root?.dir ?? dirname(path),
        });
        reported.push(path);
      } catch (err) {
        this.#reported.delete(path);
        // Once per path and error: a full disk must not log every rescan.
        const error = (err as Error).message;
        this.#noteOnce(
          "warn",
          `taking the clip failed; it is offered again later: ${error}`,
          { path },
        );
      }
    }
    return reported;
  }

  #noteOnce(
    level: "debug" | "info" | "warn",
    message: string,
    fields: { path: string } & Record<string, unknown>,
  ): void {
    const key = `${message}\0${fields.path}`;
    if (this.#noted.has(key)) return;
    if (this.#noted.size >= MAX_NOTED) this.#noted.clear();
    this.#noted.add(key);
    this.#log.log(level, message, fields);
  }
}

interface ScanState {
  now: number;
  seen: Set<string>;
  ready: string[];
}

/** Deno's error for an OS path that is not valid UTF-8. */
function isBadNameError(err: unknown): boolean {
  return err instanceof TypeError && /invalid UTF-8/i.test(err.message);
}

function signature(sample: FileSample): string {
  return `${sample.size}:${sample.mtimeMs}`;
}
