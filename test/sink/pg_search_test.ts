import assert from "node:assert/strict";
import { Logger } from "../../src/log/mod.ts";
import { closePg, connectPg } from "../../src/sink/pg_client.ts";
import { ensureDatabase, migratePg } from "../../src/sink/pg_schema.ts";
import { searchVehicles } from "../../src/sink/pg_search.ts";
import { startPgCluster } from "../support/pg_cluster.ts";

const quiet = new Logger({ sink: () => {} });

/** [plate, ts, device] */
const ROWS: Array<[string, string, string]> = [
  ["AB123CD", "2025-01-01T08:00:00Z", "van-1"],
  ["AB128CD", "2025-01-01T09:00:00Z", "van-1"],
  ["AB12CD", "2025-01-01T10:00:00Z", "van-2"],
  ["AB1234CD", "2025-01-01T11:00:00Z", "van-2"],
  ["AB183CE", "2025-01-01T12:00:00Z", "van-1"],
  ["XY123ZZ", "2025-01-01T13:00:00Z", "van-3"],
  ["QAB12", "2025-01-01T14:00:00Z", "van-3"],
];

Deno.test("`searchVehicles()` against a real server", async (t) => {
  await using cluster = await startPgCluster();
  await ensureDatabase(cluster.url, "search", { log: quiet });
  const sql = connectPg({ url: cluster.urlFor("search"), log: quiet });
  try {
    await migratePg(sql, { log: quiet });
    for (const [i, [plate, ts, device]] of ROWS.entries()) {
      await sql`
        INSERT INTO vehicles (event_key, device_id, video_id, track_id,
          frame_idx, ts, final_plate, plate_confidence, car_bbox, plate_bbox)
        VALUES (${`v:${i}`}, ${device}, 'v', ${i}, ${i * 10}, ${ts}, ${plate},
          0.8, ${sql.json([i, 0, 10, 10])}, ${sql.json([1, 2, 3, 4])})`;
    }
    const plates = async (filter: Parameters<typeof searchVehicles>[1]) =>
      (await searchVehicles(sql, filter)).map((r) => r.finalPlate);

    await t.step("wildcards match the whole plate, newest first", async () => {
      assert.deepEqual(await plates({ plate: "ab12?cd" }), [
        "AB128CD",
        "AB123CD",
      ]);
      assert.deepEqual(await plates({ plate: "AB1*" }), [
        "AB183CE",
        "AB1234CD",
        "AB12CD",
        "AB128CD",
        "AB123CD",
      ]);
    });

    await t.step("a plain plate matches as a substring", async () => {
      assert.deepEqual(await plates({ plate: "123" }), [
        "XY123ZZ",
        "AB1234CD",
        "AB123CD",
      ]);
    });

    await t.step("`fuzzy` finds plates within 1 or 2 edits", async () => {
      assert.deepEqual((await plates({ plate: "AB123CD", fuzzy: 1 })).sort(), [
        "AB1234CD",
        "AB123CD",
        "AB128CD",
        "AB12CD",
      ]);
      assert.deepEqual((await plates({ plate: "AB123CD", fuzzy: 2 })).sort(), [
        "AB1234CD",
        "AB123CD",
        "AB128CD",
        "AB12CD",
        "AB183CE",
      ]);
      await assert.rejects(
        searchVehicles(sql, { plate: "AB*", fuzzy: 1 }),
        TypeError,
      );
      await assert.rejects(
        searchVehicles(sql, { plate: "AB1", fuzzy: 3 }),
        RangeError,
      );
    });

    await t.step("time range, device and limit narrow the rows", async () => {
      assert.deepEqual(
        await plates({
          since: "2025-01-01T10:00:00+01:00", // 09:00Z
          until: "2025-01-01T12:00:00Z",
        }),
        ["AB1234CD", "AB12CD", "AB128CD"],
      );
      assert.deepEqual(await plates({ deviceId: "van-3" }), [
        "QAB12",
        "XY123ZZ",
      ]);
      assert.deepEqual(await plates({ limit: 2 }), ["QAB12", "XY123ZZ"]);
    });

    await t.step("rows come back typed", async () => {
      const [row] = await searchVehicles(sql, { plate: "AB12CD*" });
      assert.equal(row?.eventKey, "v:2");
      assert.equal(row?.deviceId, "van-2");
      assert.equal(row?.frameIdx, 20);
      assert.deepEqual(row?.carBbox, [2, 0, 10, 10]);
      assert.equal(row?.ts.toISOString(), "2025-01-01T10:00:00.000Z");
      assert.equal(row?.alertId, null);
    });
  } finally {
    await closePg(sql, 2000);
  }
});
