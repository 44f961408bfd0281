/**
 * Opening the outbox never replaces an existing file: a damaged one (zero
 * bytes, not a database, a bad header) is set aside with its -wal/-shm and
 * one loud line, read-only opens report it untouched, and committed events
 * are checkpointed into the main file so a lost -wal loses none of them.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Logger } from "../../src/log/mod.ts";
import type { FinalEvent } from "../../src/shared/mod.ts";
import { DamagedDatabaseError } from "../../src/shared/sqlite_file.ts";
import { Outbox } from "../../src/sink/outbox.ts";

function event(i: number): FinalEvent {
  return {
    eventKey: `clip:${i}`,
    videoId: "clip",
    trackId: i,
    frameIdx: i,
    ts: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    finalPlate: `AB${i}CD`,
    plateConfidence: 0.9,
    carBbox: [1, 2, 3, 4],
    plateBbox: [5, 6, 7, 8],
  };
}

function capture(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return {
    log: new Logger({
      sink: (line) => lines.push(line),
      level: "debug",
      journald: false,
    }),
    lines,
  };
}

async function withDir(fn: (dir: string) => Promise<void> | void) {
  const dir = await Deno.makeTempDir({ prefix: "outbox_open_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function names(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

/** A real outbox with events whose header is then overwritten. */
function badHeaderOutbox(path: string): Uint8Array {
  const o = Outbox.open(path, { log: capture().log });
  o.addMany([event(1), event(2)]);
  o.close();
  const bytes = Deno.readFileSync(path);
  bytes.set(new TextEncoder().encode("NOT A DATABASE!!"), 0);
  Deno.writeFileSync(path, bytes);
  return bytes;
}

const DAMAGES: Array<[string, (path: string) => Uint8Array]> = [
  ["truncated to zero bytes", (path) => {
    Deno.writeFileSync(path, new Uint8Array());
    return new Uint8Array();
  }],
  ["not a database (text)", (path) => {
    const bytes = new TextEncoder().encode("x".repeat(4096));
    Deno.writeFileSync(path, bytes);
    return bytes;
  }],
  ["a bad header", badHeaderOutbox],
  ["corrupt pages (fails quick_check)", (path) => {
    const o = Outbox.open(path, { log: capture().log });
    o.addMany(Array.from({ length: 300 }, (_, i) => event(i)));
    o.close();
    const bytes = Deno.readFileSync(path);
    const pageSize = new DataView(bytes.buffer).getUint16(16);
    bytes.fill(0xa5, pageSize, 3 * pageSize); // pages 2 and 3
    Deno.writeFileSync(path, bytes);
    return bytes;
  }],
];

for (const [what, damage] of DAMAGES) {
  Deno.test(`\`Outbox.open()\` sets an outbox ${what} aside, says so once, and keeps new events`, async () => {
    await withDir((dir) => {
      const path = join(dir, "outbox.db");
      const before = damage(path);
      const { log, lines } = capture();
      const outbox = Outbox.open(path, {
        log,
        now: () => new Date("2026-03-04T05:06:07.890Z"),
      });
      try {
        const aside = `${path}.damaged-20260304T050607Z`;
        assert.deepEqual(
          Deno.readFileSync(aside),
          before,
          "kept byte for byte",
        );
        const errors = lines;
        assert.equal(errors.length, 1, lines.join("\n"));
        assert.match(errors[0], /error/i);
        assert.match(errors[0], /outbox/);
        assert.ok(errors[0].includes(path), errors[0]);
        assert.ok(errors[0].includes(aside), errors[0]);
        assert.ok(outbox.add(event(3)));
        assert.equal(outbox.pendingCount(), 1);
      } finally {
        outbox.close();
      }
    });
  });
}

Deno.test("`Outbox.open()` sets the -wal and -shm aside with their damaged file", async () => {
  await withDir((dir) => {
    const path = join(dir, "outbox.db");
    Deno.writeFileSync(path, new TextEncoder().encode("garbage ".repeat(64)));
    Deno.writeFileSync(`${path}-wal`, new Uint8Array([1, 2, 3]));
    Deno.writeFileSync(`${path}-shm`, new Uint8Array([4, 5]));
    const outbox = Outbox.open(path, {
      log: capture().log,
      now: () => new Date("2026-03-04T05:06:07Z"),
    });
    outbox.close();
    const aside = "outbox.db.damaged-20260304T050607Z";
    const listed = names(dir);
    for (const n of [aside, `${aside}-wal`, `${aside}-shm`]) {
      assert.ok(listed.includes(n), listed.join(","));
    }
    assert.deepEqual(
      Deno.readFileSync(join(dir, `${aside}-wal`)),
      new Uint8Array([1, 2, 3]),
    );
  });
});

Deno.test("`Outbox.open()` read-only reports a damaged file and leaves it untouched", async () => {
  await withDir((dir) => {
    const path = join(dir, "outbox.db");
    Deno.writeFileSync(path, new Uint8Array());
    assert.throws(
      () => Outbox.open(path, { readOnly: true }),
      (err: unknown) =>
        err instanceof DamagedDatabaseError && err.message.includes(path),
    );
    assert.deepEqual(names(dir), ["outbox.db"]);
    assert.equal(Deno.statSync(path).size, 0);
  });
});

Deno.test("`Outbox.open()` read-only on a missing file creates nothing", async () => {
  await withDir((dir) => {
    const path = join(dir, "outbox.db");
    assert.throws(
      () => Outbox.open(path, { readOnly: true }),
      Deno.errors.NotFound,
    );
    assert.deepEqual(names(dir), []);
  });
});

Deno.test("`Outbox.open()` reopens a healthy outbox with its events and no warning", async () => {
  await withDir((dir) => {
    const path = join(dir, "outbox.db");
    const first = Outbox.open(path, { log: capture().log });
    first.addMany([event(1), event(2)]);
    first.close();
    const { log, lines } = capture();
    const again = Outbox.open(path, { log });
    try {
      assert.equal(again.pendingCount(), 2);
      assert.deepEqual(lines, []);
      assert.ok(!names(dir).some((n) => n.includes("damaged")));
    } finally {
      again.close();
    }
  });
});

Deno.test("committed events are in the main file: a lost -wal (power cut) loses none", async () => {
  await withDir((dir) => {
    const path = join(dir, "outbox.db");
    const outbox = Outbox.open(path, { log: capture().log });
    try {
      outbox.add(event(1)); // one event, its own commit (the event sink)
      outbox.addMany([event(2), event(3)]); // one batch
      // The power cut: only the main file survives, the -wal is lost.
      Deno.mkdirSync(join(dir, "after"));
      Deno.copyFileSync(path, join(dir, "after", "outbox.db"));
    } finally {
      outbox.close();
    }
    const { log, lines } = capture();
    const reopened = Outbox.open(join(dir, "after", "outbox.db"), { log });
    try {
      assert.deepEqual(
        reopened.nextBatch(10).map((e) => e.eventKey),
        ["clip:1", "clip:2", "clip:3"],
      );
      assert.deepEqual(lines, []);
    } finally {
      reopened.close();
    }
  });
});
