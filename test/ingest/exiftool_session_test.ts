import assert from "node:assert/strict";
import { join } from "node:path";
import { SHARED_MEDIA } from "../support/shared.ts";
import { alive, childPids, untilGone } from "../support/procs.ts";
import { runExiftool } from "../../src/ingest/exiftool.ts";
import {
  argLineOfPath,
  ExiftoolSession,
} from "../../src/ingest/exiftool_session.ts";

const DIR = `${SHARED_MEDIA}/gps`;
const FILES = [
  "gopro_max_heromode_gpmf_gps5.mp4",
  "gopro_hero5_karma_gpmf_glpi.mp4",
  "viofo_a119v3_novatek_ts_anon.ts",
  "kaiserbass_r50_clip_20240113175633.mp4",
];

/** The ExifTool of a session: the only child of its relay. */
async function exiftoolOf(session: ExiftoolSession): Promise<number> {
  const [pid, ...more] = await childPids(session.pid!);
  assert.ok(pid && more.length === 0, "one ExifTool behind the relay");
  return pid;
}

/** The file-access times differ between two reads of the same file; the rest must not. */
function withoutAccessTime(
  r: Record<string, unknown>,
): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(r).filter(([k]) => !k.endsWith(":FileAccessDate")),
  );
}

Deno.test("ExiftoolSession gives each file in a row the same record as a one-off exiftool run, from one process", async () => {
  const session = new ExiftoolSession();
  try {
    let pid: number | null = null;
    for (const name of FILES) {
      const path = `${DIR}/${name}`;
      const got = await session.read(path);
      pid ??= session.pid;
      assert.equal(session.pid, pid, "one process for all files");
      assert.equal(got.SourceFile, path);
      assert.deepEqual(
        withoutAccessTime(got),
        withoutAccessTime(await runExiftool(path)),
      );
    }
  } finally {
    await session.close();
  }
});

Deno.test("ExiftoolSession serves requests made at once in order, each with its own record", async () => {
  const session = new ExiftoolSession();
  try {
    const paths = [...FILES, ...FILES].map((f) => `${DIR}/${f}`);
    const records = await Promise.all(paths.map((p) => session.read(p)));
    assert.deepEqual(records.map((r) => r.SourceFile), paths);
  } finally {
    await session.close();
  }
});

Deno.test("ExiftoolSession: a missing file is one line naming it, and the next request still works", async () => {
  const session = new ExiftoolSession();
  try {
    await session.read(`${DIR}/${FILES[0]}`);
    const missing = `${DIR}/no such clip.mp4`;
    await assert.rejects(session.read(missing), (err: Error) => {
      assert.equal(
        err.message,
        `Cannot read GPS of ${
          JSON.stringify(missing)
        } with exiftool: Error: File not found - ${missing}`,
      );
      return true;
    });
    const next = await session.read(`${DIR}/${FILES[1]}`);
    assert.equal(next.SourceFile, `${DIR}/${FILES[1]}`);
  } finally {
    await session.close();
  }
});

Deno.test("ExiftoolSession reads file names with a newline, a leading space, hash or dash, backslash, quote, dollar and at", async () => {
  const dir = await Deno.makeTempDir();
  const session = new ExiftoolSession();
  try {
    for (
      const name of [
        "a\nb $x.mp4", // no argument line carries it: a one-off run
        " lead.mp4",
        "# hash.mp4",
        "-dash.mp4",
        'back\\slash $x @y "q".mp4',
      ]
    ) {
      const path = join(dir, name);
      await Deno.copyFile(`${DIR}/${FILES[0]}`, path);
      const got = await session.read(path);
      assert.equal(got.SourceFile, path);
      assert.deepEqual(
        withoutAccessTime(got),
        withoutAccessTime(await runExiftool(path)),
      );
    }
    assert.equal(argLineOfPath("a\rb.mp4"), null);
    // Relative names that ExifTool would strip or read as an option or comment.
    const rel = await session.read("-dash.mp4").catch((e: Error) => e.message);
    assert.match(String(rel), /File not found - \.\/-dash\.mp4$/);
  } finally {
    await session.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ExiftoolSession starts exiftool again after it was killed", async () => {
  const session = new ExiftoolSession();
  try {
    await session.read(`${DIR}/${FILES[0]}`);
    const first = session.pid!;
    Deno.kill(await exiftoolOf(session), "SIGKILL");
    const got = await session.read(`${DIR}/${FILES[1]}`);
    assert.equal(got.SourceFile, `${DIR}/${FILES[1]}`);
    assert.notEqual(session.pid, first);
    assert.equal(await alive(first), false);
  } finally {
    await session.close();
  }
});

Deno.test("ExiftoolSession: a request past its timeout or aborted fails with one line, kills exiftool, and the next one works", async () => {
  const session = new ExiftoolSession();
  try {
    await session.read(`${DIR}/${FILES[0]}`);
    const first = session.pid!;
    const path = `${DIR}/${FILES[2]}`;
    // No ExifTool reads a 1 MB+ file with -ee3 in under 1 ms.
    await assert.rejects(
      session.read(path, { timeoutMs: 1 }),
      /^Error: Cannot read GPS of ".*" with exiftool: no answer within 0.001 s$/,
    );
    assert.equal(await alive(first), false);
    const ac = new AbortController();
    const aborted = session.read(path, { signal: ac.signal });
    ac.abort(new Error("stopped by the test"));
    await assert.rejects(aborted, /stopped by the test/);
    const got = await session.read(path);
    assert.equal(got.SourceFile, path);
  } finally {
    await session.close();
  }
});

Deno.test("ExiftoolSession.close() leaves no exiftool behind, and later requests fail with one line", async () => {
  const session = new ExiftoolSession();
  await session.read(`${DIR}/${FILES[0]}`);
  const pid = session.pid!;
  const exiftool = await exiftoolOf(session);
  await session.close();
  assert.equal(await alive(pid), false);
  assert.equal(await alive(exiftool), false);
  assert.equal(session.pid, null);
  await assert.rejects(
    session.read(`${DIR}/${FILES[0]}`),
    /with exiftool: the ExifTool session is closed$/,
  );
});

Deno.test("ExiftoolSession: exiftool not installed is one line naming the program", async () => {
  const session = new ExiftoolSession({ bin: "/nonexistent/exiftool" });
  await assert.rejects(
    session.read(`${DIR}/${FILES[0]}`),
    /^Error: Cannot run \/nonexistent\/exiftool: not installed/,
  );
  await session.close();
});

Deno.test("ExiftoolSession stops exiftool after idleMs without a request, and the next request starts it again", async () => {
  const session = new ExiftoolSession({ idleMs: 1 });
  try {
    await session.read(`${DIR}/${FILES[0]}`);
    const first = session.pid!;
    // Bounded waits for the idle stop (bounds, not timings): the session
    // lets its process go, and the process ends.
    const end = Date.now() + 30_000;
    while (session.pid !== null || await alive(first)) {
      if (Date.now() > end) throw new Error("exiftool still running");
      await new Promise((r) => setTimeout(r, 10));
    }
    const got = await session.read(`${DIR}/${FILES[1]}`);
    assert.equal(got.SourceFile, `${DIR}/${FILES[1]}`);
    assert.notEqual(session.pid, first);
  } finally {
    await session.close();
  }
});

Deno.test("ExiftoolSession: a process killed with SIGKILL leaves no exiftool behind", async () => {
  // A daemon stand-in: one session, one file read, its pid said, then it waits.
  const script = `
    import { ExiftoolSession } from ${
    JSON.stringify(
      new URL("../../src/ingest/exiftool_session.ts", import.meta.url).href,
    )
  };
    const session = new ExiftoolSession({ idleMs: 600_000 });
    await session.read(${JSON.stringify(`${DIR}/${FILES[0]}`)});
    console.log(session.pid);
    await new Promise(() => setInterval(() => {}, 60_000));
  `;
  const parent = new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const relay = Number(
    (await new Response(parent.stdout).body!.getReader().read().then((r) =>
      new TextDecoder().decode(r.value)
    )).trim(),
  );
  const [exiftool] = await childPids(relay);
  assert.ok(exiftool, "exiftool runs behind the relay");
  parent.kill("SIGKILL");
  await parent.status;
  assert.equal(
    await untilGone(exiftool!),
    true,
    "exiftool outlived the process",
  );
  assert.equal(await untilGone(relay), true, "the relay outlived the process");
});

Deno.test("ExiftoolSession without perl in --allow-run runs exiftool on its own, and still reads files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const script = join(dir, "read_one.ts");
    await Deno.writeTextFile(
      script,
      `import { ExiftoolSession } from ${
        JSON.stringify(
          new URL("../../src/ingest/exiftool_session.ts", import.meta.url)
            .href,
        )
      };
      const session = new ExiftoolSession();
      const got = await session.read(${JSON.stringify(`${DIR}/${FILES[0]}`)});
      console.log(got.SourceFile);
      await session.close();`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        "--allow-read",
        "--allow-env",
        "--allow-run=exiftool",
        script,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.ok(out.success, stderr);
    assert.equal(
      new TextDecoder().decode(out.stdout).trim(),
      `${DIR}/${FILES[0]}`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ExiftoolSession.version() gives the version a one-off `exiftool -ver` prints, and the process then reads files", async () => {
  const out = await new Deno.Command("exiftool", { args: ["-ver"] }).output();
  const session = new ExiftoolSession();
  try {
    assert.equal(
      await session.version(),
      new TextDecoder().decode(out.stdout).trim(),
    );
    const pid = session.pid;
    assert.ok(pid !== null);
    const got = await session.read(`${DIR}/${FILES[0]}`);
    assert.equal(got.SourceFile, `${DIR}/${FILES[0]}`);
    assert.equal(session.pid, pid, "the version's process reads the file");
  } finally {
    await session.close();
  }
  const missing = new ExiftoolSession({ bin: "/nonexistent/exiftool" });
  await assert.rejects(
    missing.version(),
    /^Error: Cannot run \/nonexistent\/exiftool: not installed/,
  );
  await missing.close();
});
