/**
 * `demo [--mirror BASE] [--json]`: downloads one small public clip (pinned
 * URL, size and sha256; see `DEMO_CLIP`) into `DATA_DIR/cache` once, then
 * runs `process` on it and prints its events.
 *
 * @module
 */
import { dataLayout } from "../shared/mod.ts";
import { DEMO_CLIP, fetchPinned } from "../ingest/demo_clip.ts";
import { configFromFlags, parseCommandArgs, UsageError } from "./common.ts";
import { runProcess } from "./process.ts";

/** Usage text. */
export const USAGE =
  "demo [--mirror BASE] [--json]  download a small public clip (once) and process it";

/**
 * Runs the command.
 *
 * @param args Arguments after `demo`.
 * @returns The exit code of `process` on the clip.
 */
export async function runDemo(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    mirror: { type: "string" },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length > 0) {
    throw new UsageError(
      `demo takes no clips (got '${
        positionals[0]
      }'); use process CLIP… for your own`,
    );
  }
  const config = await configFromFlags(values);
  const clip = await fetchPinned(DEMO_CLIP, {
    cacheDir: dataLayout(config.data_dir).cache,
    mirror: values.mirror ?? Deno.env.get("DASHCAM_MODELS_MIRROR"),
  });
  console.error(`demo clip: ${clip} (${DEMO_CLIP.url}; ${DEMO_CLIP.licence})`);
  // The same flags go on to `process`, without demo's own.
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--mirror") i++;
    else if (!args[i].startsWith("--mirror=")) rest.push(args[i]);
  }
  return await runProcess([...rest, clip]);
}
