/**
 * `models install [--from DIR | --mirror BASE] [--all]` installs the listed
 * model files into the models dir: downloaded from their pinned upstream URLs
 * (or a mirror of them), or copied from a folder (a USB stick), each verified
 * by sha256, and the derived models made from their upstream file;
 * `models check [--all]` verifies what is installed.
 *
 * @module
 */
import { resolve } from "node:path";
import process from "node:process";
import cliProgress from "cli-progress";
import {
  checkModels,
  installModels,
  type InstallProgress,
  type InstallReport,
  loadManifest,
} from "../vision/model_store.ts";
import { configFromFlags, parseCommandArgs, UsageError } from "./common.ts";

/** Usage text. */
export const USAGE =
  `models install [--all]              download, verify and derive the models (defaults, or all with --all)
  models install --mirror BASE        the same from a mirror of https://github.com (env DASHCAM_MODELS_MIRROR)
  models install --retries N          retries per file after a network error (default 4, backoff 1 s doubling)
  models install --from DIR [--all]   copy and verify the models from a folder (offline install)
  models check [--all]                verify the installed models`;

/** `DASHCAM_MODELS_MIRROR`, or undefined where unset or not readable (a binary compiled without it in --allow-env). */
function envMirror(): string | undefined {
  try {
    return Deno.env.get("DASHCAM_MODELS_MIRROR") || undefined;
  } catch {
    return undefined;
  }
}

/** A progress bar per download on a terminal; nothing otherwise. */
function progressBars(): {
  update: (p: InstallProgress) => void;
  stop: () => void;
} {
  if (!Deno.stderr.isTerminal()) return { update: () => {}, stop: () => {} };
  const bars = new cliProgress.MultiBar({
    format: "{file} [{bar}] {percentage}% {value}/{total} bytes",
    stream: process.stderr,
    hideCursor: true,
    clearOnComplete: false,
  }, cliProgress.Presets.shades_classic);
  const byFile = new Map<string, cliProgress.SingleBar>();
  return {
    update(p) {
      let bar = byFile.get(p.file);
      if (bar === undefined) {
        bar = bars.create(p.total, 0, { file: p.file });
        byFile.set(p.file, bar);
      }
      bar.update(p.done, { file: p.file });
    },
    stop: () => bars.stop(),
  };
}

function printInstall(report: InstallReport, from: string | undefined): void {
  for (const f of report.installed) console.log(`installed ${f}`);
  for (const f of report.derived) console.log(`derived   ${f}`);
  for (const f of report.skipped) {
    console.log(`ok        ${f} (already installed)`);
  }
  for (const f of report.missing) {
    console.log(`missing   ${f} (not in ${from})`);
  }
  for (const c of report.corrupt) {
    console.log(`corrupt   ${c.file}: ${c.reason}`);
  }
  for (const c of report.failed) {
    console.error(`Cannot download ${c.file} from ${c.reason}`);
  }
  for (const f of report.fallback) {
    console.error(
      f.standIn === null
        ? `Cannot make ${f.file} from ${f.source} (${f.reason}), and no installed model can stand in for it: install the models again`
        : `Cannot make ${f.file} from ${f.source} (${f.reason}): the pipeline will use ${f.standIn}; ${f.cost}`,
    );
  }
}

/**
 * Runs the command.
 *
 * @param args Arguments after `models`.
 * @returns 0 when every selected model is in place and intact (a derived
 * model replaced by its upstream file counts, with a warning); 1 otherwise.
 */
export async function runModels(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    from: { type: "string" },
    mirror: { type: "string" },
    retries: { type: "string" },
    all: { type: "boolean" },
  });
  const [sub] = positionals;
  if (values.help || !sub) {
    console.log(USAGE);
    return sub ? 0 : 2;
  }
  const config = await configFromFlags(values);
  const manifest = await loadManifest();
  const only = values.all ? "all" : "default";
  if (sub === "install") {
    const mirror = values.mirror ?? envMirror();
    if (values.from !== undefined && values.mirror !== undefined) {
      throw new UsageError(
        "models install takes --from DIR or --mirror BASE, not both",
      );
    }
    if (mirror !== undefined && !/^https?:\/\/[^\s]+$/.test(mirror)) {
      throw new UsageError(
        `models install --mirror must be an http(s) URL: current value is ${mirror}`,
      );
    }
    const retries = Number(values.retries ?? 4);
    if (!Number.isInteger(retries) || retries < 0) {
      throw new UsageError(
        `models install --retries must be an integer >= 0: current value is ${values.retries}`,
      );
    }
    const bars = progressBars();
    let report: InstallReport;
    try {
      report = await installModels(manifest, {
        from: values.from === undefined ? undefined : resolve(values.from),
        mirror,
        to: config.models_dir,
        only,
        download: { retries },
        onProgress: bars.update,
      });
    } finally {
      bars.stop();
    }
    if (values.json) console.log(JSON.stringify(report));
    else printInstall(report, values.from);
    return report.missing.length || report.corrupt.length ||
        report.failed.length
      ? 1
      : 0;
  }
  if (sub === "check") {
    const report = await checkModels(manifest, {
      dir: config.models_dir,
      only,
    });
    if (values.json) console.log(JSON.stringify(report));
    else {
      for (const f of report.ok) console.log(`ok        ${f}`);
      for (const f of report.missing) console.log(`missing   ${f}`);
      for (const c of report.corrupt) {
        console.log(`corrupt   ${c.file}: ${c.reason}`);
      }
    }
    return report.missing.length || report.corrupt.length ? 1 : 0;
  }
  throw new UsageError(`unknown models subcommand '${sub}': install or check`);
}
