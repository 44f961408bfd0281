import assert from "node:assert/strict";
import {
  failureKindOfMessage,
  faultPath,
  isTransientFsError,
} from "../../src/daemon/fs_fault.ts";

const DATA = "/var/lib/dashcam";

Deno.test("`isTransientFsError()` takes real read-only, I/O, busy and full-disk errors as passing", async () => {
  // A real EROFS would need a mount; these are the shapes Deno gives.
  const shapes: Array<[string, string]> = [
    ["EROFS", "Read-only file system (os error 30): writefile '/x/a'"],
    ["EIO", "Input/output error (os error 5): read '/x/a'"],
    ["EBUSY", "Device or resource busy (os error 16): rename '/x/a'"],
    ["EAGAIN", "Resource temporarily unavailable (os error 11)"],
    ["ENOSPC", "No space left on device (os error 28): write"],
  ];
  for (const [code, message] of shapes) {
    const err = Object.assign(new Error(message), { code });
    assert.equal(isTransientFsError(err, { dataDir: DATA }), true, code);
    // The same text without the code (stored, or wrapped in a cause).
    assert.equal(
      isTransientFsError(new Error(message), { dataDir: DATA }),
      true,
      message,
    );
    assert.equal(
      isTransientFsError(new Error("Cannot read frame", { cause: err }), {
        dataDir: DATA,
      }),
      true,
    );
  }
  // SQLite on a read-only or failing disk.
  assert.equal(
    isTransientFsError(new Error("attempt to write a readonly database"), {
      dataDir: DATA,
    }),
    true,
  );
  // A real missing path: ours when in the data dir, the clip's elsewhere.
  const dir = await Deno.makeTempDir();
  try {
    let missing: unknown = null;
    try {
      await Deno.writeFile(`${dir}/frames/v1/000001.ppm`, new Uint8Array(1));
    } catch (err) {
      missing = err;
    }
    assert.equal(isTransientFsError(missing, { dataDir: dir }), true);
    assert.equal(isTransientFsError(missing, { dataDir: "/elsewhere" }), false);
    assert.equal(faultPath(missing), `${dir}/frames/v1/000001.ppm`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("`isTransientFsError()` leaves faults of the clip to fail it", () => {
  for (
    const err of [
      new Error('Cannot use clip "/in/a.mp4": moov atom not found'),
      new SyntaxError("Cannot parse frame: malformed PPM header"),
      Object.assign(
        new Error("Permission denied (os error 13): open '/in/a.mp4'"),
        {
          code: "EACCES",
        },
      ),
      Object.assign(
        new Error("No such file or directory (os error 2): stat '/in/a.mp4'"),
        {
          code: "ENOENT",
        },
      ),
      null,
      undefined,
    ]
  ) {
    assert.equal(
      isTransientFsError(err, { dataDir: DATA }),
      false,
      String(err),
    );
  }
  // Refused access inside the data dir is ours (a chmod, a wrong owner).
  assert.equal(
    isTransientFsError(
      new Error(`Permission denied (os error 13): mkdir '${DATA}/frames/x'`),
      { dataDir: DATA },
    ),
    true,
  );
});

Deno.test("`failureKindOfMessage()` classifies errors stored by older versions", () => {
  const cases: Array<[string | null, string]> = [
    [
      `Read-only file system (os error 30): mkdir '${DATA}/frames/abc'`,
      "transient",
    ],
    [
      `No such file or directory (os error 2): writefile '${DATA}/frames/abc/000003.ppm.tmp'`,
      "transient",
    ],
    ["Input/output error (os error 5): writefile '/x'", "transient"],
    ['Cannot use clip "/in/a.mp4": file not found', "clip"],
    ['Cannot use clip "/in/a.mp4": Input/output error (os error 5)', "clip"],
    ["plate_smooth failed: boom", "tasks"],
    [null, "clip"],
  ];
  for (const [message, kind] of cases) {
    assert.equal(
      failureKindOfMessage(message, { dataDir: DATA }),
      kind,
      String(message),
    );
  }
});
