/**
 * `models install --from DIR [--all]` copies the listed model files from a
 * folder (a USB stick, a download) into the models dir, verifying their
 * sha256; `models check [--all]` verifies what is installed.
 *
 * @module
 */
import {
  checkModels,
  installModels,
  loadManifest,
} from "../vision/model_store.ts";
import { configFromFlags, parseCommandArgs, UsageError } from "./common.ts";

/** Usage text. */
export const USAGE =
  `models install --from DIR [--all]   copy and verify the models (defaults, or all with --all)
  models check [--all]                verify the installed models`;

/**
 * Runs the command.
 *
 * @param args Arguments after `models`.
 * @returns 0 when every selected model is in place and intact.
 */
export async function runModels(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    from: { type: "string" },
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
    if (!values.from) throw new UsageError("models install needs --from DIR");
    const report = await installModels(manifest, {
      from: values.from,
      to: config.models_dir,
      only,
    });
    if (values.json) console.log(JSON.stringify(report));
    else {
      for (const f of report.installed) console.log(`installed ${f}`);
      for (const f of report.skipped) {
        console.log(`ok        ${f} (already installed)`);
      }
      for (const f of report.missing) {
        console.log(`missing   ${f} (not in ${values.from})`);
      }
      for (const c of report.corrupt) {
        console.log(`corrupt   ${c.file}: ${c.reason}`);
      }
    }
    return report.missing.length || report.corrupt.length ? 1 : 0;
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
