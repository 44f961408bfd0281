/**
 * `status [--json]`: tasks per category and status, results not handled,
 * frames on disk, clips, failures and the outbox. Works while the daemon
 * runs: it only reads (both databases open read-only; it never creates,
 * migrates or repairs them). A damaged or unreadable outbox is reported
 * (one line, or `outboxError` in `--json`) and the exit code is 1.
 *
 * @module
 */
import {
  clipWarnings,
  GRAPH_DB_FILE,
  graphStatus,
  openGraphDb,
} from "../graph/mod.ts";
import { Outbox, type OutboxStats } from "../sink/outbox.ts";
import { DamagedDatabaseError } from "../shared/sqlite_file.ts";
import { countFrames, dataLayout } from "../shared/mod.ts";
import { log } from "../log/mod.ts";
import { configFromFlags, parseCommandArgs } from "./common.ts";

/** Usage text. */
export const USAGE =
  "status [--json]          tasks, results, frames, clips, failures and outbox";

/**
 * Runs the command.
 *
 * @param args Arguments after `status`.
 * @returns The exit code.
 */
export async function runStatus(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, {});
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const config = await configFromFlags(values);
  const data = dataLayout(config.data_dir);
  const dbPath = data.pipelineDb;
  try {
    await Deno.stat(dbPath);
  } catch {
    throw new Error(
      `Cannot show status: no ${GRAPH_DB_FILE} in data_dir ${config.data_dir}`,
    );
  }
  const db = openGraphDb(dbPath, { readOnly: true });
  const graph = graphStatus(db);
  const warnings = clipWarnings(db);
  db.close();
  const framesOnDisk = await countFrames(config.data_dir);
  const { outbox, outboxError } = readOutbox(data.outboxDb);
  const report = { ...graph, warnings, framesOnDisk, outbox, outboxError };
  if (values.json) {
    console.log(JSON.stringify(report));
    return outboxError ? 1 : 0;
  }
  console.log("tasks:");
  for (const [cat, byStatus] of Object.entries(graph.tasks)) {
    console.log(
      `  ${cat.padEnd(15)} ${
        Object.entries(byStatus).map(([s, n]) => `${s}=${n}`).join(" ")
      }`,
    );
  }
  console.log(`results not handled: ${graph.unhandledResults}`);
  console.log(`frames on disk: ${framesOnDisk}`);
  console.log(
    `clips: ${
      Object.entries(graph.videos).map(([s, n]) => `${s}=${n}`).join(" ") ||
      "none"
    }`,
  );
  if (outbox) {
    console.log(
      `outbox: pending=${outbox.pending} sent=${outbox.sent} rejected=${outbox.rejected} last_sync=${
        outbox.lastSuccessAt ?? "never"
      }${outbox.lastError ? ` last_error=${outbox.lastError}` : ""}`,
    );
    if (outbox.rejected > 0) {
      console.log(
        `rejected: ${outbox.rejected} event(s) set aside, next retry ${
          outbox.nextRejectedRetryAt ??
            "none (use sync --once --retry-rejected)"
        }, first error: ${outbox.firstRejectedError ?? "unknown"}`,
      );
    }
  }
  if (outboxError) log.error(outboxError);
  for (const w of warnings) {
    console.log(`warning: clip ${w.path}: ${w.note}`);
  }
  for (const f of graph.failed) {
    console.log(
      `failed task ${f.id} ${f.category} video=${f.video_id} frame=${f.frame_idx} attempts=${f.attempts}: ${f.last_error}`,
    );
  }
  return outboxError ? 1 : 0;
}

/** The outbox's stats, read-only; a damaged or unreadable file is reported, never hidden. */
function readOutbox(
  path: string,
): { outbox: OutboxStats | null; outboxError: string | null } {
  let o: Outbox;
  try {
    o = Outbox.open(path, { readOnly: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      return { outbox: null, outboxError: null }; // no outbox yet
    }
    const message = (err as Error).message.split("\n")[0];
    return {
      outbox: null,
      outboxError: err instanceof DamagedDatabaseError
        ? `${message}; the file is left as it is: the next run sets it aside ` +
          `and starts a new outbox; keep the set-aside file (its unsynced ` +
          `events can be recovered with sqlite3 .recover)`
        : message,
    };
  }
  try {
    return { outbox: o.stats(), outboxError: null };
  } catch (err) {
    return {
      outbox: null,
      outboxError: `Cannot read the outbox ${path}: ${
        (err as Error).message.split("\n")[0]
      }`,
    };
  } finally {
    o.close();
  }
}
