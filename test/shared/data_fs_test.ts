import assert from "node:assert/strict";
import { join } from "node:path";
import {
  createDataFileSync,
  makeDataDir,
  openDataFile,
  writeDataFile,
} from "../../src/shared/data_fs.ts";

const mode = (path: string) => Deno.statSync(path).mode! & 0o777;

for (const umask of [0o022, 0o077, 0o000]) {
  Deno.test(`data-dir paths are 0750 folders and 0640 files under umask ${umask.toString(8).padStart(3, "0")}`, async () => {
    const root = await Deno.makeTempDir({ prefix: "data_fs_test_" });
    const old = Deno.umask(umask);
    try {
      await makeDataDir(join(root, "data", "frames", "v1"));
      for (const d of ["data", "data/frames", "data/frames/v1"]) {
        assert.equal(mode(join(root, d)), 0o750, d);
      }
      assert.equal(mode(root), 0o700, "a parent that existed is left alone");
      await writeDataFile(join(root, "data", "a.png"), new Uint8Array([1]));
      const f = await openDataFile(join(root, "data", "b.tmp"), {
        createNew: true,
      });
      f.close();
      createDataFileSync(join(root, "data", "c.db"));
      for (const f of ["a.png", "b.tmp", "c.db"]) {
        assert.equal(mode(join(root, "data", f)), 0o640, f);
      }
    } finally {
      Deno.umask(old);
      await Deno.remove(root, { recursive: true });
    }
  });
}

Deno.test("`makeDataDir()` tightens an existing data dir left 0755 by an older version", async () => {
  const root = await Deno.makeTempDir({ prefix: "data_fs_test_" });
  try {
    await Deno.chmod(root, 0o755);
    await makeDataDir(root);
    assert.equal(mode(root), 0o750);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("`writeDataFile()` writes every byte of a frame-sized buffer and replaces a longer file whole", async () => {
  const root = await Deno.makeTempDir({ prefix: "data_fs_test_" });
  try {
    const path = join(root, "f.ppm");
    await Deno.writeFile(path, new Uint8Array(4_000_000).fill(7));
    const frame = new Uint8Array(1280 * 720 * 3 + 15);
    for (let i = 0; i < frame.length; i++) frame[i] = (i * 31) & 255;
    await writeDataFile(path, frame);
    assert.deepEqual(await Deno.readFile(path), frame);
    assert.equal(mode(path), 0o640);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
