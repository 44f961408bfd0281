import assert from "node:assert/strict";
import {
  CHILD_ENV_ALLOWLIST,
  childEnv,
  decodeFrames,
  decodeImageFile,
  probeClip,
} from "../../src/ingest/mod.ts";
import { encodePng } from "../../src/vision/png.ts";

const SECRETS: Record<string, string> = {
  DASHCAM_PG_URL: "postgres://dashcam:Url-S3cret@fleet/db",
  PGPASSWORD: "Env-S3cret",
  PGHOST: "fleet.internal",
  PGUSER: "dashcam",
  PGPASSFILE: "/run/credentials/pgpass",
  DASHCAM_PG_PASSWORD: "Other-S3cret",
  CREDENTIALS_DIRECTORY: "/run/credentials/dashcam",
};

Deno.test("`childEnv()` passes the allowlist only", () => {
  const source: Record<string, string> = {
    ...SECRETS,
    PATH: "/usr/bin",
    LANG: "C.UTF-8",
    TZ: "UTC",
    RANDOM_TOKEN: "x",
  };
  assert.deepEqual(childEnv((n) => source[n]), {
    PATH: "/usr/bin",
    LANG: "C.UTF-8",
    TZ: "UTC",
  });
  for (const name of CHILD_ENV_ALLOWLIST) {
    assert.doesNotMatch(name, /^(PG|DASHCAM_)|PASS|CREDENTIAL/);
    // Deno refuses LD_*/DYLD_* under a narrowed --allow-run.
    assert.doesNotMatch(name, /^(LD_|DYLD_)/);
  }
  // A variable the process may not read is left out, not an error.
  assert.deepEqual(
    childEnv((n) => {
      if (n === "HOME") throw new Deno.errors.NotCapable("no");
      return n === "PATH" ? "/bin" : undefined;
    }),
    { PATH: "/bin" },
  );
});

Deno.test("ffprobe and ffmpeg children do not inherit the fleet credentials", async () => {
  const dir = await Deno.makeTempDir({ prefix: "child_env_" });
  const saved = Object.fromEntries(
    [...Object.keys(SECRETS), "PATH"].map((k) => [k, Deno.env.get(k)]),
  );
  try {
    // Stand-ins that record their environment, then fail like a bad clip.
    for (const name of ["ffprobe", "ffmpeg"]) {
      const script = `${dir}/${name}`;
      await Deno.writeTextFile(
        script,
        `#!/bin/sh\nenv > "${dir}/${name}.env"\necho "x: fake failure" >&2\nexit 1\n`,
      );
      await Deno.chmod(script, 0o755);
    }
    for (const [k, v] of Object.entries(SECRETS)) Deno.env.set(k, v);
    Deno.env.set("PATH", `${dir}:${saved.PATH ?? "/usr/bin:/bin"}`);
    const clip = `${dir}/clip.mp4`;
    await Deno.writeFile(clip, new Uint8Array(16));
    await assert.rejects(probeClip(clip));
    await assert.rejects(async () => {
      for await (const _ of decodeFrames(clip, { fps: 1 })) { /* none */ }
    });
    const png = `${dir}/still.png`;
    await Deno.writeFile(
      png,
      encodePng({ width: 2, height: 2, data: new Uint8Array(12) }),
    );
    await assert.rejects(
      decodeImageFile(png, { decoder: "ffmpeg", ffmpegPath: `${dir}/ffmpeg` }),
    );
    for (const name of ["ffprobe", "ffmpeg"]) {
      const env = await Deno.readTextFile(`${dir}/${name}.env`);
      for (const [k, v] of Object.entries(SECRETS)) {
        assert.ok(!env.includes(`${k}=`), `${name} got ${k}`);
        assert.ok(!env.includes(v), `${name} got the value of ${k}`);
      }
      assert.match(env, /^PATH=/m); // the allowlist still passes
    }
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) Deno.env.delete(k);
      else Deno.env.set(k, v);
    }
    await Deno.remove(dir, { recursive: true });
  }
});
