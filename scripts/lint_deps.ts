/**
 * `deno task lint:deps`: the boundaries between the folders of `src/` hold
 * (issue 12, item 3). Exit 0 when they do; otherwise one line per violation,
 * `FILE:LINE: [RULE] what is wrong; what to do`, and exit 1.
 *
 * The import edges come from Deno's own module graph (`deno info --json`, so
 * `import type`, re-exports and dynamic `import()` of literals are all seen;
 * no hand-written import parser). Every `src/**.ts` file is a root, so worker
 * entry points (loaded by `new Worker(new URL(...))`, which the graph does
 * not follow) are checked too. The file-name and spawn rules are plain text
 * checks on code lines (lines starting with `*`, `/*` or `//` are skipped).
 *
 * Rules ({@linkcode RULES}):
 *
 * | rule          | a file in …           | may not …                                                     |
 * | ------------- | --------------------- | ------------------------------------------------------------- |
 * | `layer`       | `src/A/`              | import `src/B/` unless B is in `LAYERS[A]` (table below)      |
 * | `mod`         | `src/A/`              | import `src/B/x.ts` (B ≠ A) other than `src/B/mod.ts`          |
 * | `pipeline-db` | not `src/graph/`      | name `pipeline.db` (only the graph knows and opens that file) |
 * | `outbox-db`   | not `src/sink/`       | name `outbox.db` (only the sink opens it)                     |
 * | `postgres`    | not `src/sink/`       | import `npm:postgres` (only the sink talks to Postgres)       |
 * | `sqlite-open` | not graph/sink/shared | call `new DatabaseSync(` (the databases are graph's and sink's) |
 * | `ffmpeg`      | not `src/ingest/`     | call `Deno.Command` in a file that names `ffmpeg`/`ffprobe`   |
 *
 * Layers ({@linkcode LAYERS}), from the code as of issue 12: `shared`, `log`
 * and `config` are leaves everyone may use (`log` uses `shared`; `config`
 * uses both). The flow stages `ingest`, `graph`, `vision` and `sink` use
 * only the leaves, never each other; `daemon` runs the flow and may use
 * every stage; `cli` (the commands) may use everything. Nothing may import
 * `cli`.
 *
 * Exceptions that exist today are in {@linkcode ALLOWED}, each with its
 * reason; a new violation fails. An exception that no longer matches is
 * printed as a warning (delete it), not a failure.
 *
 * @module
 */

/** The folders under `src/` and the other folders each may import. */
export const LAYERS: Record<string, readonly string[]> = {
  shared: [],
  log: ["shared"],
  config: ["shared", "log"],
  ingest: ["shared", "log", "config"],
  graph: ["shared", "log", "config"],
  vision: ["shared", "log", "config"],
  sink: ["shared", "log", "config"],
  daemon: ["shared", "log", "config", "ingest", "graph", "vision", "sink"],
  cli: [
    "shared",
    "log",
    "config",
    "ingest",
    "graph",
    "vision",
    "sink",
    "daemon",
  ],
};

/** Rule names, as printed in brackets. */
export const RULES = [
  "layer",
  "mod",
  "pipeline-db",
  "outbox-db",
  "postgres",
  "sqlite-open",
  "ffmpeg",
] as const;

/** A rule name. */
export type Rule = typeof RULES[number];

/** One import edge, paths relative to the repository root (`src/a/b.ts`). */
export interface Edge {
  /** Importing file. */
  from: string;
  /** 1-based line of the import in `from`. */
  line: number;
  /** Imported file (`src/...`) or external specifier (`npm:postgres@3.4.9`). */
  to: string;
}

/** A source file's text, path relative to the repository root. */
export interface SourceFile {
  /** Path, e.g. `src/vision/nms.ts`. */
  path: string;
  /** Whole text. */
  text: string;
}

/** One violation. */
export interface Violation {
  /** File that breaks the rule. */
  file: string;
  /** 1-based line. */
  line: number;
  /** The rule broken. */
  rule: Rule;
  /** What is wrong and what to do. */
  message: string;
  /** For `layer`/`mod`: the imported file; else the matched text. */
  target: string;
}

/** A known exception: `file` may break `rule` (for `target`, if given). */
export interface Exception {
  /** Rule. */
  rule: Rule;
  /** File that breaks it. */
  file: string;
  /** Imported file (for `layer`/`mod`); any target when absent. */
  target?: string;
  /** Why it is allowed today, and what removes it. */
  reason: string;
}

const CLI_STARTUP =
  "cli loads one command at a time; the folder's mod.ts would load the whole folder (engine, sharp, onnxruntime) before every command";

/**
 * Violations that exist today, each named with its reason. Do not add to
 * this list to make a new import pass: fix the import (re-export from the
 * folder's `mod.ts`, or move the code to the folder that owns it).
 */
export const ALLOWED: readonly Exception[] = [
  // --- cli: deep imports kept for start-up (each command is loaded lazily).
  {
    rule: "mod",
    file: "src/cli/mod.ts",
    target: "src/daemon/preflight.ts",
    reason: CLI_STARTUP,
  },
  {
    rule: "mod",
    file: "src/cli/run.ts",
    target: "src/daemon/preflight.ts",
    reason: CLI_STARTUP,
  },
  {
    rule: "mod",
    file: "src/cli/run.ts",
    target: "src/daemon/app.ts",
    reason: CLI_STARTUP,
  },
  {
    rule: "mod",
    file: "src/cli/read.ts",
    target: "src/vision/frame_reader.ts",
    reason:
      "vision has no mod.ts yet; issue 12 item 1 replaces frame_reader with the one frame path",
  },
  {
    rule: "mod",
    file: "src/cli/models.ts",
    target: "src/vision/model_store.ts",
    reason: "vision has no mod.ts yet (" + CLI_STARTUP + ")",
  },
  {
    rule: "mod",
    file: "src/daemon/preflight.ts",
    target: "src/vision/model_store.ts",
    reason:
      "vision has no mod.ts yet; preflight is loaded by cli/mod.ts before every command, so it must stay light",
  },
  {
    rule: "mod",
    file: "src/cli/read.ts",
    target: "src/ingest/image_decode.ts",
    reason: CLI_STARTUP,
  },
  {
    rule: "mod",
    file: "src/cli/demo.ts",
    target: "src/ingest/demo_clip.ts",
    reason: "demo_clip is cli-only and not re-exported by ingest/mod.ts",
  },
  {
    rule: "mod",
    file: "src/cli/status.ts",
    target: "src/sink/outbox.ts",
    reason: CLI_STARTUP + " (sink/mod.ts loads the Postgres client)",
  },
  // --- shared: build_info and sqlite_file are not re-exported by
  // shared/mod.ts (build_info is read at start-up by every command;
  // sqlite_file is the damaged-file handling of the two database owners).
  ...[
    ["src/cli/common.ts", "src/shared/build_info.ts"],
    ["src/cli/mod.ts", "src/shared/build_info.ts"],
    ["src/cli/pg_host.ts", "src/shared/build_info.ts"],
    ["src/daemon/preflight.ts", "src/shared/build_info.ts"],
    ["src/cli/status.ts", "src/shared/sqlite_file.ts"],
    ["src/graph/db.ts", "src/shared/sqlite_file.ts"],
    ["src/sink/outbox.ts", "src/shared/sqlite_file.ts"],
  ].map(([file, target]): Exception => ({
    rule: "mod",
    file,
    target,
    reason: "not re-exported by shared/mod.ts yet (see above)",
  })),
  // --- file names and processes outside their owner.
  {
    rule: "ffmpeg",
    file: "src/daemon/preflight.ts",
    reason:
      "readiness check runs `ffmpeg -version`/`ffprobe -version` only; preflight is loaded before every command and must not load ingest/mod.ts (sharp)",
  },
];

const FOLDER = /^src\/([^/]+)\/(.+)$/;

/** The `src/` folder of a path, or undefined (main.ts, test/, npm:…). */
export function folderOf(path: string): string | undefined {
  return FOLDER.exec(path)?.[1];
}

function isCodeLine(line: string): boolean {
  const t = line.trimStart();
  return !(t.startsWith("*") || t.startsWith("/*") || t.startsWith("//"));
}

/**
 * The data-dir layout names every file of the data dir (it opens none), so
 * the file-name rules do not apply to it.
 */
const LAYOUT_FILE = "src/shared/data_layout.ts";

const TEXT_RULES: {
  rule: Rule;
  owners: readonly string[];
  /** Files outside the owners that may name the file (they open nothing). */
  ownerFiles?: readonly string[];
  pattern: RegExp;
  message: string;
}[] = [
  {
    rule: "pipeline-db",
    owners: ["graph"],
    ownerFiles: [LAYOUT_FILE],
    pattern: /pipeline\.db/,
    message:
      "names pipeline.db outside src/graph; open it through graph/mod.ts (GRAPH_DB_FILE, openGraphDb)",
  },
  {
    rule: "outbox-db",
    owners: ["sink"],
    ownerFiles: [LAYOUT_FILE],
    pattern: /outbox\.db/,
    message:
      "names outbox.db outside src/sink; open it through sink/mod.ts (OUTBOX_FILE, openDataDirOutbox)",
  },
  {
    rule: "sqlite-open",
    owners: ["graph", "sink", "shared"],
    pattern: /new\s+DatabaseSync\s*\(/,
    message:
      "opens a SQLite database outside src/graph and src/sink; use openGraphDb (graph/mod.ts) or the outbox (sink/mod.ts)",
  },
];

const SPAWN = /Deno\.Command\s*\(/;
const FFMPEG_NAME = /["'`](ffmpeg|ffprobe)["'`]/;

/**
 * All violations of {@linkcode RULES} in a module graph and source texts.
 * Pure: no I/O. Known exceptions are not filtered here (see
 * {@linkcode applyAllowed}).
 *
 * @param edges Import edges (see {@linkcode Edge}); edges from outside
 *   `src/` are ignored.
 * @param files Source texts for the text rules; files outside `src/` are
 *   ignored.
 * @returns Violations sorted by file, line and rule.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const found = checkDeps([
 *   { from: "src/vision/x.ts", line: 1, to: "src/daemon/mod.ts" },
 * ], []);
 * assert.deepEqual(found.map((v) => v.rule), ["layer"]);
 * ```
 */
export function checkDeps(
  edges: readonly Edge[],
  files: readonly SourceFile[],
): Violation[] {
  const out: Violation[] = [];
  for (const e of edges) {
    const from = folderOf(e.from);
    if (!from) continue;
    if (/^npm:postgres(@|\/|$)/.test(e.to) && from !== "sink") {
      out.push({
        file: e.from,
        line: e.line,
        rule: "postgres",
        target: e.to,
        message:
          "imports postgres outside src/sink; talk to the fleet database through sink/mod.ts",
      });
    }
    const to = folderOf(e.to);
    if (!to || to === from) continue;
    const allowed = LAYERS[from];
    if (!allowed || !allowed.includes(to)) {
      out.push({
        file: e.from,
        line: e.line,
        rule: "layer",
        target: e.to,
        message: `src/${from} may not import src/${to} (${e.to}); ` +
          (allowed
            ? `src/${from} may import only ${
              allowed.map((f) => `src/${f}`).join(", ") || "nothing"
            }`
            : `src/${from} is not in LAYERS of scripts/lint_deps.ts: add it`),
      });
    }
    if (e.to !== `src/${to}/mod.ts`) {
      out.push({
        file: e.from,
        line: e.line,
        rule: "mod",
        target: e.to,
        message:
          `imports ${e.to} past src/${to}/mod.ts; re-export it from src/${to}/mod.ts and import that`,
      });
    }
  }
  for (const f of files) {
    const folder = folderOf(f.path);
    if (!folder) continue;
    const lines = f.text.split("\n");
    const code = lines.map((l, i) => ({ l, n: i + 1 })).filter((x) =>
      isCodeLine(x.l)
    );
    for (const r of TEXT_RULES) {
      if (r.owners.includes(folder)) continue;
      if (r.ownerFiles?.includes(f.path)) continue;
      for (const { l, n } of code) {
        const m = r.pattern.exec(l);
        if (m) {
          out.push({
            file: f.path,
            line: n,
            rule: r.rule,
            target: m[0],
            message: r.message,
          });
        }
      }
    }
    if (folder !== "ingest" && code.some((x) => FFMPEG_NAME.test(x.l))) {
      for (const { l, n } of code) {
        if (SPAWN.test(l)) {
          out.push({
            file: f.path,
            line: n,
            rule: "ffmpeg",
            target: "Deno.Command",
            message:
              "spawns a process in a file that names ffmpeg/ffprobe outside src/ingest; run ffmpeg through ingest/mod.ts",
          });
        }
      }
    }
  }
  return out.sort((a, b) =>
    a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line ||
      RULES.indexOf(a.rule) - RULES.indexOf(b.rule)
  );
}

function matches(x: Exception, v: Violation): boolean {
  return x.rule === v.rule && x.file === v.file &&
    (x.target === undefined || x.target === v.target);
}

/**
 * Splits violations into those a known exception covers and the rest, and
 * names the exceptions that matched nothing (stale). Pure.
 *
 * @param found From {@linkcode checkDeps}.
 * @param allowed Exceptions, normally {@linkcode ALLOWED}.
 * @returns `{ failures, excused, stale }`.
 */
export function applyAllowed(
  found: readonly Violation[],
  allowed: readonly Exception[] = ALLOWED,
): { failures: Violation[]; excused: Violation[]; stale: Exception[] } {
  const failures: Violation[] = [];
  const excused: Violation[] = [];
  const used = new Set<Exception>();
  for (const v of found) {
    const x = allowed.find((a) => matches(a, v));
    if (x) {
      used.add(x);
      excused.push(v);
    } else failures.push(v);
  }
  return {
    failures,
    excused,
    stale: allowed.filter((a) => !used.has(a)),
  };
}

/**
 * One line for a violation: `FILE:LINE: [RULE] message`.
 *
 * @param v The violation.
 * @returns The line.
 */
export function formatViolation(v: Violation): string {
  return `${v.file}:${v.line}: [${v.rule}] ${v.message}`;
}

/** The JSON shape of `deno info --json` that this script reads. */
interface DenoInfo {
  modules: {
    specifier: string;
    dependencies?: {
      specifier: string;
      code?: { specifier?: string; span?: { start: { line: number } } };
      type?: { specifier?: string; span?: { start: { line: number } } };
    }[];
  }[];
  redirects?: Record<string, string>;
}

/**
 * Import edges of a `deno info --json` graph, paths relative to `rootUrl`.
 * Pure.
 *
 * @param info Parsed `deno info --json` output.
 * @param rootUrl `file:///…/` URL of the repository root (trailing slash).
 * @returns Edges from files under the root; targets outside it keep their
 *   specifier (`npm:postgres@3.4.9`, `node:path`).
 */
export function edgesFromInfo(info: DenoInfo, rootUrl: string): Edge[] {
  const rel = (s: string) =>
    s.startsWith(rootUrl) ? s.slice(rootUrl.length) : s;
  const edges: Edge[] = [];
  for (const m of info.modules) {
    if (!m.specifier.startsWith(rootUrl)) continue;
    for (const d of m.dependencies ?? []) {
      for (const r of [d.code, d.type]) {
        if (!r?.specifier) continue;
        const to = info.redirects?.[r.specifier] ?? r.specifier;
        edges.push({
          from: rel(m.specifier),
          line: (r.span?.start.line ?? 0) + 1,
          to: rel(to),
        });
      }
    }
  }
  return edges;
}

async function denoInfo(root: string, file: string): Promise<DenoInfo> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--config", "deno.json", file],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `lint:deps: deno info ${file} failed: ${
        new TextDecoder().decode(out.stderr).split("\n")[0]
      }`,
    );
  }
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

async function listTs(root: string, dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(`${root}/${dir}`)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await listTs(root, p));
    else if (e.isFile && p.endsWith(".ts")) out.push(p);
  }
  return out.sort();
}

/**
 * Reads the module graph of `main.ts` and of every `src/**.ts` it does not
 * reach, and the texts of `src/**.ts`, under `root`.
 *
 * @param root Repository root (absolute path).
 * @returns Edges and files for {@linkcode checkDeps}.
 * @throws Error when `deno info` fails (e.g. a file does not parse).
 */
export async function loadTree(
  root: string,
): Promise<{ edges: Edge[]; files: SourceFile[] }> {
  const rootUrl = new URL(`file://${root.replace(/\/*$/, "/")}`).href;
  const paths = await listTs(root, "src");
  const files = await Promise.all(
    paths.map(async (path) => ({
      path,
      text: await Deno.readTextFile(`${root}/${path}`),
    })),
  );
  const edges = new Map<string, Edge>();
  const seen = new Set<string>();
  const todo = ["main.ts", ...paths];
  for (const start of todo) {
    if (seen.has(start)) continue;
    try {
      await Deno.stat(`${root}/${start}`);
    } catch {
      continue;
    }
    const info = await denoInfo(root, start);
    for (const m of info.modules) {
      if (m.specifier.startsWith(rootUrl)) {
        seen.add(m.specifier.slice(rootUrl.length));
      }
    }
    for (const e of edgesFromInfo(info, rootUrl)) {
      edges.set(`${e.from}\0${e.line}\0${e.to}`, e);
    }
  }
  return { edges: [...edges.values()], files };
}

if (import.meta.main) {
  const root = Deno.cwd();
  const { edges, files } = await loadTree(root);
  const { failures, excused, stale } = applyAllowed(checkDeps(edges, files));
  for (const x of stale) {
    console.error(
      `lint:deps: warning: exception no longer needed, delete it from ALLOWED in scripts/lint_deps.ts: [${x.rule}] ${x.file}${
        x.target ? ` -> ${x.target}` : ""
      }`,
    );
  }
  for (const v of failures) console.error(formatViolation(v));
  console.error(
    `lint:deps: ${files.length} files, ${edges.length} imports: ${failures.length} violation(s), ${excused.length} known exception(s) (ALLOWED in scripts/lint_deps.ts)`,
  );
  Deno.exit(failures.length ? 1 : 0);
}
