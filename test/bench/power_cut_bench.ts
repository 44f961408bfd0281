/**
 * Power cuts: the daemon is killed with SIGKILL at random moments while
 * three clips are in flight, N times, then allowed to finish; its events are
 * compared with an uninterrupted run's.
 *
 * @module
 */
import {
  doneCount,
  duplicateTasks,
  events,
  powerCuts,
  resultCount,
  sameClipsInBoth,
  setup,
  startDaemon,
  stopWithSigterm,
  until,
} from "../support/daemon.ts";
import { fmt, table } from "./_util.ts";

/** Runs `rounds` power cuts and prints the outcome. */
export async function powerCutBench(rounds = 100): Promise<void> {
  const ref = await setup();
  const cut = await setup();
  try {
    await sameClipsInBoth(ref, cut, { durationS: 4 });
    const r = startDaemon(ref);
    await until(() => doneCount(ref.dataDir) === 3, r.child);
    await stopWithSigterm(r, 30_000);
    await r.stderr;
    const expected = events(ref.dataDir);
    const total = resultCount(ref.dataDir);
    const t0 = performance.now();
    const cuts = await powerCuts(cut, {
      rounds,
      totalResults: total,
      clips: 3,
      random: Math.random,
    });
    const last = startDaemon(cut);
    await until(() => doneCount(cut.dataDir) === 3, last.child);
    await stopWithSigterm(last, 30_000);
    await last.stderr;
    const got = events(cut.dataDir);
    const missing = expected.filter((e) => !got.includes(e)).length;
    const extra = got.filter((e) => !expected.includes(e)).length;
    const dups = duplicateTasks(cut.dataDir);
    table(
      `Power cuts: SIGKILL of run at random moments, 3 clips in flight (${
        fmt((performance.now() - t0) / 1000, 0)
      } s)`,
      [
        [
          "rounds",
          "kills",
          "kills mid-clip",
          "expected events",
          "final events",
          "missing",
          "extra",
          "duplicate tasks",
          "same as uninterrupted",
        ],
        [
          String(rounds),
          String(cuts.kills),
          String(cuts.inFlight),
          String(expected.length),
          String(got.length),
          String(missing),
          String(extra),
          String(dups),
          missing === 0 && extra === 0 && got.length === expected.length &&
            dups === 0
            ? "yes"
            : "NO",
        ],
      ],
    );
  } finally {
    await Deno.remove(ref.root, { recursive: true });
    await Deno.remove(cut.root, { recursive: true });
  }
}
