/**
 * Issue 13 acceptance, on the engine: a clip made here with ffmpeg and an
 * NMEA sidecar written here: every event carries the position the sidecar
 * gives at its frame time (to the interpolation's tolerance), the speed in
 * km/h, the heading, and a `ts` on the GPS (UTC) clock. Bad input (a sidecar
 * that is not NMEA, a bad fix, ExifTool missing) still gives every event,
 * with one line saying why.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Engine } from "../../src/daemon/mod.ts";
import { ClipGps } from "../../src/daemon/clip_gps.ts";
import { Logger } from "../../src/log/mod.ts";
import type {
  ClipRecord,
  FinalEvent,
  TrackRecord,
} from "../../src/shared/mod.ts";
import { testConfig, TRIVIAL_HANDLERS } from "../support/config.ts";
import { alive } from "../support/procs.ts";
import { SHARED_MEDIA } from "../support/shared.ts";

const START = Date.UTC(2026, 6, 18, 6, 3, 29); // the clip's creation_time (UTC)
const FPS = 5;

function memorySink() {
  const events = new Map<string, FinalEvent>();
  const clips: Array<{ clip: ClipRecord; tracks: readonly TrackRecord[] }> = [];
  return {
    events,
    clips,
    add(e: FinalEvent) {
      if (events.has(e.eventKey)) return false;
      events.set(e.eventKey, e);
      return true;
    },
    addClip(clip: ClipRecord, tracks: readonly TrackRecord[]) {
      clips.push({ clip, tracks });
    },
  };
}

/** A 3 s clip with a UTC creation_time, made by ffmpeg. */
async function makeClip(dir: string, name: string): Promise<string> {
  const path = join(dir, name);
  const out = await new Deno.Command("ffmpeg", {
    args: [
      "-nostdin",
      "-loglevel",
      "error",
      "-f",
      "lavfi",
      "-i",
      "testsrc=duration=3:size=320x240:rate=25",
      "-c:v",
      "libx264",
      "-pix_fmt",
      "yuv420p",
      "-metadata",
      `creation_time=${new Date(START).toISOString()}`,
      "-y",
      path,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return path;
}

function nmeaChecksum(body: string): string {
  let x = 0;
  for (const c of body) x ^= c.charCodeAt(0);
  return x.toString(16).toUpperCase().padStart(2, "0");
}

function ddmm(deg: number, width: number): string {
  const a = Math.abs(deg);
  const d = Math.floor(a);
  const m = (a - d) * 60;
  return `${String(d).padStart(width, "0")}${m.toFixed(5).padStart(8, "0")}`;
}

interface SideFix {
  t: number;
  lat: number;
  lon: number;
  kn: number;
  course: number;
}

/** Fixes 0.3 s after each whole second, driving north-east. */
const FIXES: SideFix[] = [0, 1, 2, 3].map((i) => ({
  t: 0.3 + i,
  lat: 52.2 + i * 0.00012,
  lon: 0.12 + i * 0.0002,
  kn: 20 + i * 2,
  course: 45 + i * 2,
}));

function rmc(f: SideFix): string {
  const d = new Date(START + f.t * 1000);
  const hh = String(d.getUTCHours()).padStart(2, "0");
  const mi = String(d.getUTCMinutes()).padStart(2, "0");
  const ss = (d.getUTCSeconds() + d.getUTCMilliseconds() / 1000).toFixed(2)
    .padStart(5, "0");
  const date = `${String(d.getUTCDate()).padStart(2, "0")}${
    String(d.getUTCMonth() + 1).padStart(2, "0")
  }${String(d.getUTCFullYear() % 100).padStart(2, "0")}`;
  const body = `GPRMC,${hh}${mi}${ss},A,${ddmm(f.lat, 2)},N,${
    ddmm(f.lon, 3)
  },E,${f.kn.toFixed(1)},${f.course.toFixed(1)},${date},,,A`;
  return `$${body}*${nmeaChecksum(body)}`;
}

/** What the sidecar says at `t`: the fixes' linear interpolation (held before the first). */
function sidecarAt(
  t: number,
): { lat: number; lon: number; kmh: number; course: number } {
  if (t <= FIXES[0]!.t) {
    const f = FIXES[0]!;
    return { lat: f.lat, lon: f.lon, kmh: f.kn * 1.852, course: f.course };
  }
  const i = FIXES.findIndex((f) => f.t >= t);
  const a = FIXES[i - 1]!;
  const b = FIXES[i]!;
  const w = (t - a.t) / (b.t - a.t);
  const mix = (x: number, y: number) => x + (y - x) * w;
  return {
    lat: mix(a.lat, b.lat),
    lon: mix(a.lon, b.lon),
    kmh: mix(a.kn, b.kn) * 1.852,
    course: mix(a.course, b.course),
  };
}

async function run(
  dir: string,
  clip: string,
  overrides: Record<string, unknown> = {},
): Promise<
  {
    events: FinalEvent[];
    lines: string[];
    clips: Array<{ clip: ClipRecord; tracks: readonly TrackRecord[] }>;
  }
> {
  const lines: string[] = [];
  const log = new Logger({
    level: "debug",
    sink: (l) => lines.push(l),
    journald: false,
  });
  const config = testConfig(join(dir, "data"), {
    sampling_fps: FPS,
    ...overrides,
  });
  const sink = memorySink();
  const engine = await Engine.open(config, {
    log,
    sink,
    handlersModule: TRIVIAL_HANDLERS,
  });
  try {
    const sub = await engine.addClip(clip);
    const [video] = await engine.waitFor([sub.videoId!]);
    assert.equal(video!.status, "done");
    // Tracks held at the segment's end for a next segment come out now (as
    // `process` does once its clips are done).
    engine.releaseHeld([sub.videoId!]);
  } finally {
    await engine.close();
  }
  const events = [...sink.events.values()].sort((a, b) =>
    a.frameIdx - b.frameIdx
  );
  return { events, lines, clips: sink.clips };
}

Deno.test("events carry the NMEA sidecar's position, speed and heading at their frame times, and GPS time", async () => {
  const dir = await Deno.makeTempDir({ prefix: "clip_gps_" });
  try {
    const clip = await makeClip(dir, "drive.mp4");
    await Deno.writeTextFile(
      join(dir, "drive.nmea"),
      FIXES.map(rmc).join("\r\n") + "\r\n",
    );
    const { events, clips } = await run(dir, clip);
    assert.equal(events.length, 3); // trivial stages: tracks at frames 0, 5, 10
    // The clip's fleet row: GPS summary and true start; one row per track.
    assert.equal(clips.length, 1);
    const { clip: row, tracks } = clips[0]!;
    assert.equal(row.gpsFixes, 4);
    assert.equal(row.timeSource, "gps");
    assert.equal(row.startTs, new Date(START).toISOString());
    assert.equal(row.fileName, "drive.mp4");
    assert.deepEqual(
      tracks.map((t) => [t.trackId, t.finalPlate, t.firstFrame]),
      [[1, "P0", 0], [2, "P1", 5], [3, "P2", 10]],
    );
    // The GPS file goes once the clip's rows are stored.
    assert.deepEqual([...Deno.readDirSync(join(dir, "data", "gps"))], []);
    for (const e of events) {
      const t = e.frameIdx / FPS;
      const want = sidecarAt(t);
      // NMEA carries 5 decimals of a minute (~2 cm); interpolation is linear.
      assert.ok(
        Math.abs(e.lat! - want.lat) < 1e-6,
        `${e.eventKey} lat ${e.lat} vs ${want.lat}`,
      );
      assert.ok(
        Math.abs(e.lon! - want.lon) < 1e-6,
        `${e.eventKey} lon ${e.lon} vs ${want.lon}`,
      );
      assert.ok(
        Math.abs(e.speedKmh! - want.kmh) < 0.01,
        `${e.eventKey} speed ${e.speedKmh} vs ${want.kmh}`,
      );
      assert.ok(
        Math.abs(e.headingDeg! - want.course) < 0.1,
        `${e.eventKey} heading`,
      );
      assert.equal(e.timeSource, "gps");
      assert.equal(e.ts, new Date(START + t * 1000).toISOString());
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a bad fix is left out: the events around it get positions from the good fixes, one debug line says why", async () => {
  const dir = await Deno.makeTempDir({ prefix: "clip_gps_" });
  try {
    const clip = await makeClip(dir, "jump.mp4");
    const fixes = FIXES.map((f) => ({ ...f }));
    fixes[1] = { ...fixes[1]!, lat: 53.2 }; // 111 km off for one second
    await Deno.writeTextFile(join(dir, "jump.nmea"), fixes.map(rmc).join("\n"));
    const { events, lines } = await run(dir, clip);
    assert.equal(events.length, 3);
    const e1 = events.find((e) => e.frameIdx === 5)!; // t = 1.0, between fixes 0.3 and 2.3 now
    const w = (1.0 - 0.3) / 2;
    assert.ok(
      Math.abs(
        e1.lat! - (FIXES[0]!.lat + (FIXES[2]!.lat - FIXES[0]!.lat) * w),
      ) < 1e-6,
    );
    assert.equal(lines.filter((l) => /left out as a jump/.test(l)).length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a sidecar that is not NMEA, and ExifTool missing: events without location, one line each says why", async () => {
  const dir = await Deno.makeTempDir({ prefix: "clip_gps_" });
  try {
    const clip = await makeClip(dir, "plain.mp4");
    await Deno.writeTextFile(join(dir, "plain.gps"), "lat,lon\n52.2,0.12\n");
    const { events, lines } = await run(dir, clip, {
      gps: { exiftool: "/nonexistent/exiftool" },
    });
    assert.equal(events.length, 3);
    for (const e of events) {
      assert.equal(e.lat, undefined);
      assert.equal(e.timeSource, "camera_utc");
    }
    assert.equal(
      lines.filter((l) => /Cannot run \/nonexistent\/exiftool/.test(l)).length,
      1,
    );
    assert.equal(
      lines.filter((l) => /plain\.gps as NMEA 0183/.test(l)).length,
      1,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ClipGps checks ExifTool with the process that reads every clip's embedded GPS, which close() stops", async () => {
  const dataDir = await Deno.makeTempDir();
  const gps = ClipGps.start({
    dataDir,
    log: new Logger({ level: "error", sink: () => {}, journald: false }),
  });
  const input = {
    path: `${SHARED_MEDIA}/gps/gopro_max_heromode_gpmf_gps5.mp4`,
    startTime: new Date(Date.UTC(2019, 10, 18, 15, 45, 32)).toISOString(),
    startSource: "container",
    durationS: 10.517,
    samplingFps: FPS,
  };
  try {
    const first = gps.capture("a", input); // taken while the check runs
    await gps.ready;
    const pid = gps.exiftoolPid;
    assert.ok(pid !== null, "started by start() (its version check)");
    await first;
    assert.equal(gps.exiftoolPid, pid, "the same process for the first clip");
    await gps.capture("b", input);
    assert.equal(gps.exiftoolPid, pid, "the same process for the next clip");
    assert.equal(gps.record("a")?.track?.fixes.length, 11);
    assert.equal(gps.record("b")?.track?.fixes.length, 11);
    await gps.close();
    assert.equal(gps.exiftoolPid, null);
    assert.equal(await alive(pid!), false, "exiftool stopped");
    // A clip taken after close is still read (a one-off run), none left running.
    await gps.capture("c", input);
    assert.equal(gps.record("c")?.track?.fixes.length, 11);
    assert.equal(gps.exiftoolPid, null);
  } finally {
    await gps.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a clip taken while the ExifTool check is still running waits for it: a missing ExifTool gives the one warning and no second line", async () => {
  const dataDir = await Deno.makeTempDir();
  const lines: string[] = [];
  const gps = ClipGps.start({
    dataDir,
    log: new Logger({
      level: "debug",
      sink: (l) => lines.push(l),
      journald: false,
    }),
    exiftool: "/nonexistent/exiftool",
  });
  try {
    // Not awaiting gps.ready: the engine takes its first clip meanwhile.
    await gps.capture("a", {
      path: `${SHARED_MEDIA}/gps/gopro_max_heromode_gpmf_gps5.mp4`,
      startTime: new Date(Date.UTC(2019, 10, 18, 15, 45, 32)).toISOString(),
      startSource: "container",
      durationS: 10.517,
      samplingFps: FPS,
    });
    assert.equal(gps.record("a")?.track, null);
    assert.equal(gps.exiftoolPid, null);
    const about = lines.filter((l) => l.includes("/nonexistent/exiftool"));
    assert.equal(about.length, 1, about.join("\n"));
    assert.match(
      about[0],
      /Cannot run \/nonexistent\/exiftool \(gps\.exiftool\)/,
    );
    // Read as with no ExifTool at all, not tried on the session the check
    // closed ("the ExifTool session is closed").
    const tried = lines.filter((l) => /Cannot read GPS/.test(l));
    assert.deepEqual(tried, []);
  } finally {
    await gps.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
