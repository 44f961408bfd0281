import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import type { FinalEvent } from "../../src/shared/mod.ts";
import {
  migrateOutbox,
  Outbox,
  OUTBOX_MIGRATIONS,
} from "../../src/sink/outbox.ts";
import {
  editDistance,
  fuzzyLikePatterns,
  normalizePlate,
  plateLikePattern,
} from "../../src/sink/plate_match.ts";

function event(i: number, plate: string, ts?: string): FinalEvent {
  return {
    eventKey: `clip:${i}`,
    videoId: "clip",
    trackId: i,
    frameIdx: i * 2,
    ts: ts ?? new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString(),
    finalPlate: plate,
    plateConfidence: 0.5 + i / 100,
    carBbox: [i, 2, 3, 4],
    plateBbox: [5, 6, 7, i],
  };
}

async function withOutbox(
  fn: (outbox: Outbox, path: string) => void | Promise<void>,
  now?: () => Date,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "outbox_test_" });
  const path = `${dir}/outbox.db`;
  const outbox = now === undefined
    ? Outbox.open(path)
    : Outbox.open(path, { now });
  try {
    await fn(outbox, path);
  } finally {
    outbox.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("`Outbox.open()` sets WAL, synchronous=FULL and records migrations", async () => {
  await withOutbox((outbox, path) => {
    const mode = outbox.db.prepare("PRAGMA journal_mode").get() as {
      journal_mode: string;
    };
    assert.equal(mode.journal_mode, "wal");
    const sync = outbox.db.prepare("PRAGMA synchronous").get() as {
      synchronous: number;
    };
    assert.equal(sync.synchronous, 2); // FULL
    const busy = outbox.db.prepare("PRAGMA busy_timeout").get() as {
      timeout: number;
    };
    assert.equal(busy.timeout, 5000);
    const versions = outbox.db.prepare(
      "SELECT version, name FROM schema_migrations ORDER BY version",
    ).all().map((r) => ({ ...r }));
    assert.deepEqual(versions, [
      { version: 1, name: "events_alerts_sync_state" },
      { version: 2, name: "rejected_retry" },
      { version: 3, name: "gps_location" },
      { version: 4, name: "evidence_sync" },
      { version: 5, name: "clips_and_tracks" },
      { version: 6, name: "clip_name_time_camera" },
    ]);
    // Re-opening applies nothing twice.
    const again = Outbox.open(path);
    const count = again.db.prepare(
      "SELECT count(*) AS n FROM schema_migrations",
    ).get() as { n: number };
    assert.equal(count.n, 6);
    again.close();
  });
});

Deno.test("`Outbox.add()` ignores an event whose key is already stored", async () => {
  await withOutbox((outbox) => {
    assert.equal(outbox.add(event(1, "AB123")), true);
    assert.equal(outbox.add(event(1, "ZZ999")), false);
    assert.equal(outbox.add(event(2, "CD456")), true);
    assert.equal(outbox.pendingCount(), 2);
    const [first] = outbox.nextBatch(10);
    assert.equal(first?.finalPlate, "AB123");
    assert.deepEqual(first?.carBbox, [1, 2, 3, 4]);
    assert.deepEqual(first?.plateBbox, [5, 6, 7, 1]);
    assert.equal(first?.plateConfidence, 0.51);
    assert.equal(first?.frameIdx, 2);
    assert.equal(first?.evidence, undefined);
  });
});

Deno.test("`Outbox.addMany()` stores a batch and counts only new keys", async () => {
  await withOutbox((outbox) => {
    outbox.add(event(2, "OLD"));
    const withEvidence = { ...event(3, "EV1"), evidence: "crops/a.jpg" };
    assert.equal(
      outbox.addMany([event(1, "A"), event(2, "B"), withEvidence]),
      2,
    );
    assert.equal(outbox.pendingCount(), 3);
    assert.equal(outbox.query({ plate: "EV1" })[0]?.evidence, "crops/a.jpg");
    assert.equal(outbox.query({ plate: "OLD" }).length, 1);
  });
});

Deno.test("`Outbox.nextBatch()` walks the backlog in id order without repeats", async () => {
  await withOutbox((outbox) => {
    for (let i = 0; i < 25; i++) outbox.add(event(i, `P${i}`));
    const seen: number[] = [];
    let afterId = 0;
    let batches = 0;
    while (true) {
      const batch = outbox.nextBatch(10, afterId);
      if (batch.length === 0) break;
      batches += 1;
      for (const e of batch) seen.push(e.trackId);
      afterId = batch[batch.length - 1]!.id;
    }
    assert.equal(batches, 3);
    assert.deepEqual(seen, Array.from({ length: 25 }, (_, i) => i));
    assert.throws(() => outbox.nextBatch(0), RangeError);
  });
});

Deno.test("`Outbox.markSent()` and `markRejected()` take rows out of the pending set", async () => {
  const now = () => new Date("2025-02-03T04:05:06.000Z");
  await withOutbox((outbox) => {
    for (let i = 1; i <= 5; i++) outbox.add(event(i, `P${i}`));
    const ids = outbox.nextBatch(5).map((e) => e.id);
    outbox.markSent([ids[0]!, ids[1]!], "2025-02-03T00:00:00.000Z");
    outbox.markRejected(ids[2]!, "23514 violates check constraint");
    outbox.markFailed([ids[3]!], "Cannot reach Postgres");
    assert.equal(outbox.pendingCount(), 2);
    assert.deepEqual(outbox.nextBatch(10).map((e) => e.id), [ids[3], ids[4]]);
    const rejected = outbox.query({ plate: "P3" })[0]!;
    assert.equal(rejected.rejectedAt, "2025-02-03T04:05:06.000Z");
    assert.equal(rejected.lastError, "23514 violates check constraint");
    assert.equal(rejected.syncAttempts, 1);
    const failed = outbox.query({ plate: "P4" })[0]!;
    assert.equal(failed.syncAttempts, 1);
    assert.equal(failed.rejectedAt, null);
    const sent = outbox.query({ plate: "P1" })[0]!;
    assert.equal(sent.sentAt, "2025-02-03T00:00:00.000Z");
    const stats = outbox.stats();
    assert.equal(stats.total, 5);
    assert.equal(stats.pending, 2);
    assert.equal(stats.sent, 2);
    assert.equal(stats.rejected, 1);
    assert.equal(stats.oldestPendingAt, "2025-02-03T04:05:06.000Z");
    // An operator re-queues the rejected row once the cause is fixed.
    assert.equal(outbox.retryRejected(), 1);
    assert.deepEqual(outbox.nextBatch(10).map((e) => e.id), [
      ids[2],
      ids[3],
      ids[4],
    ]);
    assert.equal(outbox.retryRejected(), 0);
  }, now);
});

Deno.test("`Outbox.requeueDueRejected()` re-queues only rows whose retry time has come", async () => {
  await withOutbox((outbox) => {
    for (let i = 1; i <= 4; i++) outbox.add(event(i, `P${i}`));
    const ids = outbox.nextBatch(4).map((e) => e.id);
    outbox.markRejected(ids[0]!, "P0001 first", "2025-02-03T10:00:00.000Z");
    outbox.markRejected(ids[1]!, "42501 second", "2025-02-03T12:00:00.000Z");
    outbox.markRejected(ids[2]!, "23514 for good", null);
    let stats = outbox.stats();
    assert.equal(stats.rejected, 3);
    assert.equal(stats.firstRejectedError, "P0001 first");
    assert.equal(stats.nextRejectedRetryAt, "2025-02-03T10:00:00.000Z");
    assert.equal(outbox.requeueDueRejected("2025-02-03T09:59:59.000Z"), 0);
    assert.equal(outbox.requeueDueRejected("2025-02-03T10:00:00.000Z"), 1);
    const back = outbox.nextBatch(10);
    assert.deepEqual(back.map((e) => e.id), [ids[0], ids[3]]);
    assert.equal(back[0]!.rejectCount, 1); // kept: the next delay doubles
    stats = outbox.stats();
    assert.equal(stats.rejected, 2);
    assert.equal(stats.firstRejectedError, "42501 second");
    // A row with no retry time left waits for a forced retry, which also
    // restarts its count.
    assert.equal(outbox.requeueDueRejected("2030-01-01T00:00:00.000Z"), 1);
    assert.equal(outbox.stats().rejected, 1);
    assert.equal(outbox.retryRejected(), 1);
    assert.equal(outbox.stats().rejected, 0);
    const forced = outbox.nextBatch(10).find((e) => e.id === ids[2]);
    assert.equal(forced?.rejectCount, 0);
  });
});

Deno.test("`Outbox.recordSyncError()` and `recordSyncSuccess()` show in `stats()`", async () => {
  const now = () => new Date("2025-05-06T07:08:09.000Z");
  await withOutbox((outbox) => {
    assert.equal(outbox.stats().lastSuccessAt, null);
    outbox.recordSyncError("Cannot reach Postgres at h:5432 (pg.url)");
    outbox.recordSyncSuccess("2025-05-06T07:10:00.000Z");
    const stats = outbox.stats();
    assert.equal(stats.lastError, "Cannot reach Postgres at h:5432 (pg.url)");
    assert.equal(stats.lastErrorAt, "2025-05-06T07:08:09.000Z");
    assert.equal(stats.lastSuccessAt, "2025-05-06T07:10:00.000Z");
  }, now);
});

Deno.test("`Outbox.query()` matches wildcards, substrings and time ranges", async () => {
  await withOutbox((outbox) => {
    outbox.add(event(1, "AB123CD", "2025-01-01T10:00:00+02:00")); // 08:00Z
    outbox.add(event(2, "AB128CD", "2025-01-01T09:00:00Z"));
    outbox.add(event(3, "XY123ZZ", "2025-01-01T10:00:00Z"));
    outbox.add(event(4, "QAB12", "2025-01-01T11:00:00Z"));
    const plates = (q: Parameters<Outbox["query"]>[0]) =>
      outbox.query(q).map((e) => e.finalPlate);
    assert.deepEqual(plates({ plate: "AB12*" }), ["AB128CD", "AB123CD"]);
    assert.deepEqual(plates({ plate: "ab12?cd" }), ["AB128CD", "AB123CD"]);
    assert.deepEqual(plates({ plate: "*123*" }), ["XY123ZZ", "AB123CD"]);
    assert.deepEqual(plates({ plate: "ab-12" }), [
      "QAB12",
      "AB128CD",
      "AB123CD",
    ]);
    assert.deepEqual(plates({ plate: "AB12", limit: 1 }), ["QAB12"]);
    // The +02:00 event is 08:00Z, so it falls before 08:30Z.
    assert.deepEqual(plates({ until: "2025-01-01T08:30:00Z" }), ["AB123CD"]);
    assert.deepEqual(
      plates({ since: "2025-01-01T09:00:00Z", until: "2025-01-01T11:00:00Z" }),
      ["XY123ZZ", "AB128CD"],
    );
  });
});

Deno.test("`Outbox.query()` with `fuzzy` finds plates within that many edits", async () => {
  await withOutbox((outbox) => {
    outbox.add(event(1, "AB123CD")); // target
    outbox.add(event(2, "AB128CD")); // 1 substitution
    outbox.add(event(3, "AB12CD")); // 1 deletion
    outbox.add(event(4, "AB1234CD")); // 1 insertion
    outbox.add(event(5, "AB183CE")); // 2 substitutions
    outbox.add(event(6, "ZZ999ZZ")); // far
    const plates = (fuzzy: number) =>
      outbox.query({ plate: "ab 123 cd", fuzzy }).map((e) => e.finalPlate)
        .sort();
    assert.deepEqual(plates(1), ["AB1234CD", "AB123CD", "AB128CD", "AB12CD"]);
    assert.deepEqual(plates(2), [
      "AB1234CD",
      "AB123CD",
      "AB128CD",
      "AB12CD",
      "AB183CE",
    ]);
    assert.throws(() => outbox.query({ plate: "AB*", fuzzy: 1 }), TypeError);
    assert.throws(() => outbox.query({ plate: "AB1", fuzzy: 3 }), RangeError);
  });
});

Deno.test("`Outbox.matchAlert()` prefers exact alerts and allows one edit for fuzzy1", async () => {
  await withOutbox((outbox) => {
    outbox.replaceAlerts([
      { id: 7, plate: "ab-123-cd", match: "exact", note: "stolen" },
      { id: 9, plate: "XY999ZZ", match: "fuzzy1", note: null },
      { id: 11, plate: "AB123CE", match: "fuzzy1", note: "near twin" },
    ]);
    assert.equal(outbox.matchAlert("AB123CD")?.id, 7); // exact beats fuzzy 11
    assert.equal(outbox.matchAlert("ab 123 cd")?.note, "stolen");
    assert.equal(outbox.matchAlert("AB123CX")?.id, 11); // exact alert 7 is not fuzzy
    assert.equal(outbox.matchAlert("XY99ZZ")?.id, 9); // deletion
    assert.equal(outbox.matchAlert("XY9999ZZ")?.id, 9); // insertion
    assert.equal(outbox.matchAlert("XY988ZZ"), null); // two edits
    assert.equal(outbox.matchAlert(""), null);
    // Replacing drops the old list.
    outbox.replaceAlerts([{
      id: 1,
      plate: "NEW1",
      match: "exact",
      note: null,
    }]);
    assert.equal(outbox.matchAlert("AB123CD"), null);
    assert.equal(outbox.stats().alerts, 1);
  });
});

Deno.test("`Outbox.markAlert()` queues the alert id for a push once the event is sent", async () => {
  await withOutbox((outbox) => {
    outbox.add(event(1, "AB123CD"));
    outbox.add(event(2, "XY1"));
    assert.equal(outbox.markAlert("clip:1", 7), true);
    assert.equal(outbox.markAlert("clip:404", 7), false);
    assert.equal(outbox.nextBatch(5)[0]?.alertId, 7);
    assert.deepEqual(outbox.unpushedAlerts(10), []); // not sent yet
    const ids = outbox.nextBatch(5).map((e) => e.id);
    outbox.markSent(ids, "2025-01-01T00:00:00.000Z");
    const unpushed = outbox.unpushedAlerts(10);
    assert.deepEqual(unpushed, [{
      id: ids[0],
      eventKey: "clip:1",
      alertId: 7,
    }]);
    outbox.markAlertsPushed(unpushed);
    assert.deepEqual(outbox.unpushedAlerts(10), []);
    // A new match after the push queues it again.
    outbox.markAlert("clip:1", 8);
    assert.deepEqual(outbox.unpushedAlerts(10), [{
      id: ids[0],
      eventKey: "clip:1",
      alertId: 8,
    }]);
    assert.equal(outbox.stats().alerted, 1);
  });
});

Deno.test("`Outbox.pruneSent()` deletes only sent rows older than the cut", async () => {
  await withOutbox((outbox) => {
    for (let i = 1; i <= 4; i++) {
      outbox.add({ ...event(i, `P${i}`), evidence: `evidence/clip/${i}.png` });
    }
    const ids = outbox.nextBatch(4).map((e) => e.id);
    outbox.markSent([ids[0]!], "2025-01-01T00:00:00.000Z");
    outbox.markSent([ids[1]!], "2025-03-01T00:00:00.000Z");
    outbox.markRejected(ids[2]!, "bad");
    outbox.markEvidenceSynced([ids[0]!], 1);
    assert.deepEqual(outbox.pruneSent("2025-02-01T00:00:00Z"), {
      deleted: 1,
      evidence: ["evidence/clip/1.png", "evidence/clip/1_vehicle.jpg"],
    });
    assert.equal(outbox.stats().total, 3);
  });
});

Deno.test("`Outbox.pruneSent()` keeps a sent event whose pictures the fleet has not been offered yet", async () => {
  await withOutbox((outbox) => {
    outbox.add({ ...event(1, "P1"), evidence: "evidence/clip/1.png" });
    outbox.add(event(2, "P2")); // no pictures: nothing to wait for
    const ids = outbox.nextBatch(2).map((e) => e.id);
    outbox.markSent(ids, "2025-01-01T00:00:00.000Z");
    assert.deepEqual(outbox.unsyncedEvidence(10).map((e) => e.id), [ids[0]]);
    assert.equal(outbox.pruneSent("2025-02-01T00:00:00Z").deleted, 1);
    outbox.markEvidenceSynced([ids[0]!], 0); // kept on the box by config
    assert.equal(outbox.pruneSent("2025-02-01T00:00:00Z").deleted, 1);
    assert.equal(outbox.stats().total, 0);
  });
});

Deno.test("`Outbox` keeps an added event across a reopen (durable file)", async () => {
  await withOutbox((outbox, path) => {
    outbox.add(event(1, "AB123"));
    const other = new DatabaseSync(path);
    const row = other.prepare("SELECT final_plate FROM events").get() as {
      final_plate: string;
    };
    other.close();
    assert.equal(row.final_plate, "AB123");
  });
});

Deno.test("`plateLikePattern()` anchors wildcard patterns and wraps substrings", () => {
  assert.equal(plateLikePattern("ab1*"), "AB1%");
  assert.equal(plateLikePattern("?b-1"), "_B1");
  assert.equal(plateLikePattern("b 12"), "%B12%");
  assert.equal(plateLikePattern("a%b_c"), "%ABC%");
  assert.throws(() => plateLikePattern("*"), TypeError);
  assert.throws(() => plateLikePattern("--"), TypeError);
});

Deno.test("`editDistance()` counts insertions, deletions and substitutions", () => {
  assert.equal(editDistance("", ""), 0);
  assert.equal(editDistance("ABC", ""), 3);
  assert.equal(editDistance("AB123CD", "AB128CD"), 1);
  assert.equal(editDistance("AB123CD", "AB12CD"), 1);
  assert.equal(editDistance("AB123CD", "AB1234CD"), 1);
  assert.equal(editDistance("KITTEN", "SITTING"), 3);
  assert.equal(normalizePlate(" ab-12 3\u00e9"), "AB123");
});

Deno.test("`fuzzyLikePatterns()` covers exactly the strings within the distance", () => {
  // Check every string over a tiny alphabet against the real distance.
  const alphabet = ["A", "B", "C"];
  const strings: string[] = [""];
  for (let len = 1; len <= 4; len++) {
    for (const s of strings.filter((x) => x.length === len - 1)) {
      for (const c of alphabet) strings.push(s + c);
    }
  }
  for (const k of [1, 2]) {
    const patterns = fuzzyLikePatterns("AB", k).map((p) =>
      new RegExp(`^${p.replaceAll("_", ".")}$`)
    );
    for (const s of strings) {
      if (s === "") continue;
      const expected = editDistance("AB", s) <= k;
      assert.equal(patterns.some((r) => r.test(s)), expected, `${s} k=${k}`);
    }
  }
  assert.throws(() => fuzzyLikePatterns("AB", 3), RangeError);
});

Deno.test("`Outbox.stats()` read-only on an outbox an older version wrote (not migrated yet) reports what it holds", () => {
  const dir = Deno.makeTempDirSync({ prefix: "outbox_old_" });
  try {
    const path = `${dir}/outbox.db`;
    const old = new DatabaseSync(path);
    migrateOutbox(old, OUTBOX_MIGRATIONS.slice(0, 1));
    old.close();
    const outbox = Outbox.open(path, { readOnly: true });
    try {
      const stats = outbox.stats();
      assert.equal(stats.total, 0);
      assert.equal(stats.nextRejectedRetryAt, null);
    } finally {
      outbox.close();
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("`Outbox.add()` keeps the clip file name, time in clip and camera, and an older outbox read-only gives events without them", async () => {
  await withOutbox((outbox, path) => {
    outbox.add({
      eventKey: "v:1",
      videoId: "v",
      trackId: 1,
      frameIdx: 16,
      ts: "2026-03-15T08:15:05.200Z",
      finalPlate: "PE63TVF",
      plateConfidence: 0.97,
      carBbox: [1, 2, 3, 4],
      plateBbox: [1, 2, 3, 4],
      clip: "2026_0315_081502_F.MP4",
      clipTimeS: 3.2,
      camera: "van7",
    });
    const [e] = outbox.query();
    assert.equal(e.clip, "2026_0315_081502_F.MP4");
    assert.equal(e.clipTimeS, 3.2);
    assert.equal(e.camera, "van7");
    // An outbox an older version wrote (no migration 3), opened read-only.
    outbox.db.exec(
      "ALTER TABLE events DROP COLUMN clip; ALTER TABLE events DROP COLUMN clip_time_s; ALTER TABLE events DROP COLUMN camera",
    );
    outbox.checkpoint();
    const old = Outbox.open(path, { readOnly: true });
    try {
      const [o] = old.query();
      assert.equal(o.finalPlate, "PE63TVF");
      assert.equal(o.clip, undefined);
    } finally {
      old.close();
    }
  });
});
