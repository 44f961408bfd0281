import assert from "node:assert/strict";
import {
  creationTimeInZone,
  startTimeFromName,
} from "../../src/ingest/start_time.ts";

const T = "2023-11-24T15:30:12.000Z";

Deno.test("`startTimeFromName()` reads the common dashcam name styles", () => {
  const names = [
    "/sd/20231124_153012_F.mp4",
    "20231124_153012.MP4",
    "2023-11-24-15-30-12.mp4",
    "2023-11-24_15-30-12_R.mov",
    "2023_1124_153012_001.MP4",
    "20231124T153012.mp4",
    "2023-11-24 15:30:12.mp4",
    "NO20231124-153012-000123F.MP4",
    "FILE231124-153012.MP4",
    "EMER231124_153012_0042.mp4",
  ];
  for (const name of names) {
    assert.equal(startTimeFromName(name), T, name);
  }
});

Deno.test("`startTimeFromName()` takes the time of day at face value as UTC", () => {
  assert.equal(
    startTimeFromName("20240101_000000.mp4"),
    "2024-01-01T00:00:00.000Z",
  );
  assert.equal(
    startTimeFromName("20231231_235959.mp4"),
    "2023-12-31T23:59:59.000Z",
  );
  assert.equal(
    startTimeFromName("240229-061500.mp4"),
    "2024-02-29T06:15:00.000Z",
  );
});

Deno.test("`startTimeFromName()` rejects impossible dates and times", () => {
  const names = [
    "20231324_153012.mp4", // month 13
    "20230001_153012.mp4", // month 0
    "20231100_153012.mp4", // day 0
    "20231132_153012.mp4", // day 32
    "20230230_120000.mp4", // 30 February
    "20230229_120000.mp4", // 29 February of a common year
    "20230431_120000.mp4", // 31 April
    "20231124_243012.mp4", // hour 24
    "20231124_156012.mp4", // minute 60
    "20231124_153060.mp4", // second 60
    "231324-153012.mp4", // two-digit year, month 13
  ];
  for (const name of names) assert.equal(startTimeFromName(name), null, name);
});

Deno.test("`startTimeFromName()` returns null for names without a date-time", () => {
  const names = [
    "clip.mp4",
    "IMG_0001.MP4",
    "MOVI0042.AVI",
    "20231124.mp4", // a date without a time
    "120231124_1530121.mp4", // digit runs longer than a date-time
  ];
  for (const name of names) assert.equal(startTimeFromName(name), null, name);
});

Deno.test("`startTimeFromName()` reads the file name only, not the folders", () => {
  assert.equal(startTimeFromName("/media/20231124_153012/clip.mp4"), null);
  assert.equal(
    startTimeFromName("/media/20200101_000000/20231124_153012.mp4"),
    T,
  );
});

Deno.test("`startTimeFromName()` reads the name in the camera's zone", () => {
  // 08:15:02 on a London summer day is 07:15:02 UTC; in Chicago winter 14:15:02.
  assert.equal(
    startTimeFromName("/sd/2026_0715_081502_F.MP4", {
      timeZone: "Europe/London",
    }),
    "2026-07-15T07:15:02.000Z",
  );
  assert.equal(
    startTimeFromName("/sd/2026_0115_081502_F.MP4", {
      timeZone: "America/Chicago",
    }),
    "2026-01-15T14:15:02.000Z",
  );
});

Deno.test("`creationTimeInZone()` keeps a UTC tag and reads a local one in the zone", () => {
  const tag = "2026-07-15T08:15:02.500Z";
  assert.equal(
    creationTimeInZone(tag, { timeZone: "Europe/Berlin", creationTime: "utc" }),
    "2026-07-15T08:15:02.500Z",
  );
  assert.equal(
    creationTimeInZone(tag, {
      timeZone: "Europe/Berlin",
      creationTime: "local",
    }),
    "2026-07-15T06:15:02.500Z",
  );
});
