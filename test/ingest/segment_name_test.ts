import assert from "node:assert/strict";
import {
  cameraOfClip,
  chainKey,
  wallTimeFromName,
} from "../../src/ingest/segment_name.ts";

Deno.test("`cameraOfClip()` takes the folder as camera id and the channel letters after the time", () => {
  const cases: Array<[string, string, string]> = [
    ["/sd/van12/2026_0315_081502_F.MP4", "van12", "F"],
    ["/sd/van12/2026_0315_081502_R.MP4", "van12", "R"],
    ["/sd/DCIM/Movie/NO20231124-153012-000123F.MP4", "Movie", "F"],
    ["/sd/DCIM/Movie/NO20231124-153012-000124R.MP4", "Movie", "R"],
    ["/bv/Record/20240113_175633_NF.mp4", "Record", "F"], // BlackVue: mode N, channel F
    ["/bv/Record/20240113_175633_ER.mp4", "Record", "R"], // event mode, rear
    ["/bv/Record/20240113_175633_NI.mp4", "Record", "I"], // interior
    ["/tw/cont_rec/REC_2024_01_13_17_56_33_F.MP4", "cont_rec", "F"],
    ["/kb/20240113175633.mp4", "kb", ""],
    ["/g/GRMN0001.MP4", "g", ""],
    ["/x/EMER231124_153012_0042.mp4", "x", ""],
    ["/x/2026_0315_081502_front.mp4", "x", ""], // a word, not a channel code
  ];
  for (const [path, cameraId, channel] of cases) {
    assert.deepEqual(cameraOfClip(path), { cameraId, channel }, path);
  }
});

Deno.test("`chainKey()` separates front and rear of one camera", () => {
  const f = chainKey(cameraOfClip("/sd/van12/2026_0315_081502_F.MP4"));
  const r = chainKey(cameraOfClip("/sd/van12/2026_0315_081502_R.MP4"));
  const g = chainKey(cameraOfClip("/sd/van13/2026_0315_081502_F.MP4"));
  assert.equal(f, "van12/F");
  assert.notEqual(f, r);
  assert.notEqual(f, g);
  assert.equal(chainKey(cameraOfClip("/kb/20240113175633.mp4")), "kb");
});

Deno.test("`wallTimeFromName()` gives the digits, without a zone", () => {
  assert.deepEqual(wallTimeFromName("/sd/2026_0315_081502_F.MP4"), {
    year: 2026,
    month: 3,
    day: 15,
    hour: 8,
    minute: 15,
    second: 2,
  });
  assert.equal(wallTimeFromName("/sd/GRMN0001.MP4"), null);
  assert.equal(wallTimeFromName("/sd/20230230_120000.mp4"), null);
});
