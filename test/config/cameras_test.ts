import assert from "node:assert/strict";
import { cameraSettings, validateCameras } from "../../src/config/cameras.ts";
import { loadConfig } from "../../src/config/load.ts";

Deno.test("`validateCameras()` fills each camera from default and names a bad key in one line", () => {
  const cams = validateCameras({
    default: { time_zone: "UTC", creation_time: "utc" },
    van12: { time_zone: "Europe/London", creation_time: "local" },
    van13: { time_zone: "America/Chicago" },
  });
  assert.deepEqual(cameraSettings(cams, "van12"), {
    time_zone: "Europe/London",
    creation_time: "local",
  });
  assert.deepEqual(cameraSettings(cams, "van13"), {
    time_zone: "America/Chicago",
    creation_time: "utc",
  });
  assert.deepEqual(cameraSettings(cams, "other"), {
    time_zone: "UTC",
    creation_time: "utc",
  });
  assert.deepEqual(cameraSettings(cams, "__proto__"), {
    time_zone: "UTC",
    creation_time: "utc",
  });
  assert.throws(
    () => validateCameras({ van12: { time_zone: "Europe/Londn" } }),
    /^CameraConfigError: Invalid config 'cameras.van12.time_zone': expected an IANA time zone such as Europe\/London, got "Europe\/Londn"$/,
  );
  assert.throws(
    () => validateCameras({ van12: { creation_time: "gmt" } }),
    /'cameras.van12.creation_time': expected one of utc, local/,
  );
  assert.throws(
    () => validateCameras({ van12: { zone: "UTC" } }),
    /Unknown config key 'cameras.van12.zone'/,
  );
});

Deno.test("`loadConfig()` reads a cameras section from the file and stops on a bad zone with one line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cameras_test_" });
  try {
    const file = `${dir}/dashcam.json`;
    await Deno.writeTextFile(
      file,
      `{"cameras": {"van12": {"time_zone": "Europe/Berlin", "creation_time": "local"}}}`,
    );
    const { config } = await loadConfig({ config: file }, { env: {} });
    assert.equal(config.cameras.van12.time_zone, "Europe/Berlin");
    assert.equal(config.cameras.default.time_zone, "UTC");
    await Deno.writeTextFile(
      file,
      `{"cameras": {"default": {"time_zone": "Nowhere/City"}}}`,
    );
    await assert.rejects(
      () => loadConfig({ config: file }, { env: {} }),
      (err: Error) =>
        err.name === "ConfigError" &&
        err.message.includes("'cameras.default.time_zone'") &&
        !err.message.includes("\n"),
    );
    await Deno.writeTextFile(file, `{"segments": {"edge_s": -1}}`);
    await assert.rejects(
      () => loadConfig({ config: file }, { env: {} }),
      /^ConfigError: Invalid config 'segments.edge_s': expected a number from 0 to 60, got -1$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
