import assert from "node:assert/strict";
import { join } from "node:path";
import { runScript } from "../support/script.ts";
import { SHARED_MEDIA } from "../support/shared.ts";
import {
  decodeImageFile,
  type ImageDecoder,
  isCompleteImage,
  readImageHeader,
} from "../../src/ingest/image_decode.ts";

/** The two real decoders; `auto` picks sharp here. */
const DECODERS: ImageDecoder[] = ["sharp", "ffmpeg"];

const STILL = `${SHARED_MEDIA}/stills/ro_dashcam/dayride_type1_001_t0488.jpg`;

/** Runs ffmpeg and returns its stdout; `input` goes to its stdin. */
async function ffmpeg(args: string[], input?: Uint8Array): Promise<Uint8Array> {
  const child = new Deno.Command("ffmpeg", {
    args: ["-v", "error", "-y", ...args],
    stdin: input ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (input) {
    const writer = child.stdin.getWriter();
    await writer.write(input);
    await writer.close();
  }
  const out = await child.output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return out.stdout;
}

/** Writes `pixels` (raw, in `pixFmt`) as a PNG stored as `outFmt`. */
async function makePng(
  path: string,
  size: [number, number],
  pixels: { pixFmt: string; data: Uint8Array },
  outArgs: string[],
): Promise<void> {
  await ffmpeg([
    "-f",
    "rawvideo",
    "-pix_fmt",
    pixels.pixFmt,
    "-s",
    `${size[0]}x${size[1]}`,
    "-i",
    "pipe:0",
    ...outArgs,
    path,
  ], pixels.data);
}

/** ffmpeg's own decode of `path` to raw RGB. */
function ffmpegRgb(path: string): Promise<Uint8Array> {
  return ffmpeg(["-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]);
}

/** How far two equally long pixel arrays are apart, per sample. */
function sampleDiff(
  a: Uint8Array,
  b: Uint8Array,
): { max: number; mean: number; within2: number } {
  assert.equal(a.length, b.length);
  let max = 0;
  let sum = 0;
  let within2 = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d > max) max = d;
    sum += d;
    if (d <= 2) within2++;
  }
  return { max, mean: sum / a.length, within2: within2 / a.length };
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "image_decode_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function rejectsOneLine(
  promise: Promise<unknown>,
  expected: string | RegExp,
): Promise<void> {
  await assert.rejects(promise, (error: Error) => {
    assert.ok(!error.message.includes("\n"), error.message);
    if (typeof expected === "string") assert.equal(error.message, expected);
    else assert.match(error.message, expected);
    return true;
  });
}

// 4x2 RGB test card: black, red, green, blue / white, grey, dark teal, black.
const CARD = new Uint8Array([
  0,
  0,
  0,
  255,
  0,
  0,
  0,
  255,
  0,
  0,
  0,
  255,
  255,
  255,
  255,
  128,
  128,
  128,
  18,
  52,
  86,
  0,
  0,
  0,
]);

Deno.test("`decodeImageFile()` decodes a real dashcam still (a PNG named .jpg) exactly like ffmpeg with every decoder", async () => {
  const reference = await ffmpegRgb(STILL);
  for (const decoder of ["auto", ...DECODERS] as const) {
    const image = await decodeImageFile(STILL, { decoder });
    assert.equal(image.width, 1280);
    assert.equal(image.height, 720);
    assert.equal(image.data.length, 1280 * 720 * 3);
    // A plain Uint8Array whose buffer is exactly the pixels.
    assert.equal(Object.getPrototypeOf(image.data), Uint8Array.prototype);
    assert.equal(image.data.byteOffset, 0);
    assert.equal(image.data.buffer.byteLength, 1280 * 720 * 3);
    for (const [x, y] of [[0, 0], [640, 360], [1279, 719], [1000, 450]]) {
      const i = (y * 1280 + x) * 3;
      assert.deepEqual(
        [...image.data.subarray(i, i + 3)],
        [...reference.subarray(i, i + 3)],
        `${decoder}: pixel ${x},${y}`,
      );
    }
    assert.equal(sampleDiff(image.data, reference).max, 0, decoder);
  }
});

Deno.test("`decodeImageFile()` decodes real JPEGs within a few levels of ffmpeg with sharp and exactly like it with ffmpeg", async () => {
  await withTempDir(async (dir) => {
    // Measured on the 18 ro_dashcam stills at -q:v 3: 4:4:4 at most 3
    // levels apart, mean at most 0.013, over 99.999 % within 2 levels;
    // 4:2:0 (chroma upsampled differently) mean at most 0.75, at least
    // 97.1 % of samples within 2 levels, up to 41 levels on sharp colour
    // edges. This still, 4:2:0: mean 0.70, 99.3 % within 2, max 17.
    const cases = [
      {
        name: "yuv444.jpg",
        pixFmt: "yuvj444p",
        max: 3,
        mean: 0.05,
        within2: 0.999,
      },
      {
        name: "yuv420.jpg",
        pixFmt: "yuvj420p",
        max: 64,
        mean: 1,
        within2: 0.97,
      },
    ];
    for (const c of cases) {
      const jpeg = join(dir, c.name);
      await ffmpeg(["-i", STILL, "-pix_fmt", c.pixFmt, "-q:v", "3", jpeg]);
      assert.equal(readImageHeader(await Deno.readFile(jpeg)).format, "jpeg");
      const reference = await ffmpegRgb(jpeg);

      const viaFfmpeg = await decodeImageFile(jpeg, { decoder: "ffmpeg" });
      assert.equal(viaFfmpeg.width, 1280);
      assert.equal(viaFfmpeg.height, 720);
      assert.equal(sampleDiff(viaFfmpeg.data, reference).max, 0, c.name);

      const viaSharp = await decodeImageFile(jpeg, { decoder: "sharp" });
      assert.equal(viaSharp.width, 1280);
      assert.equal(viaSharp.height, 720);
      const diff = sampleDiff(viaSharp.data, reference);
      assert.ok(diff.max <= c.max, `${c.name}: ${JSON.stringify(diff)}`);
      assert.ok(diff.mean <= c.mean, `${c.name}: ${JSON.stringify(diff)}`);
      assert.ok(
        diff.within2 >= c.within2,
        `${c.name}: ${JSON.stringify(diff)}`,
      );
      // Not the same decoder: some samples differ.
      assert.ok(diff.mean > 0, c.name);
    }
  });
});

Deno.test("`decodeImageFile()` returns the exact pixels of RGB, RGBA, 16-bit and palette PNGs", async () => {
  await withTempDir(async (dir) => {
    const rgba = new Uint8Array(4 * 2 * 4);
    // 16-bit samples v * 257 (bytes v, v) stand exactly for 8-bit v.
    const rgb48 = new Uint8Array(4 * 2 * 3 * 2);
    const rgba64 = new Uint8Array(4 * 2 * 4 * 2);
    for (let p = 0; p < 8; p++) {
      rgba.set(CARD.subarray(p * 3, p * 3 + 3), p * 4);
      rgba[p * 4 + 3] = p * 30; // varying alpha, dropped by the decoder
      for (let c = 0; c < 4; c++) {
        const v = c < 3 ? CARD[p * 3 + c] : p * 30;
        if (c < 3) rgb48.set([v, v], (p * 3 + c) * 2);
        rgba64.set([v, v], (p * 4 + c) * 2);
      }
    }
    const cases: Array<
      [string, { pixFmt: string; data: Uint8Array }, string[]]
    > = [
      ["rgb.png", { pixFmt: "rgb24", data: CARD }, []],
      ["rgba.png", { pixFmt: "rgba", data: rgba }, []],
      ["rgb48.png", { pixFmt: "rgb48be", data: rgb48 }, []],
      ["rgba64.png", { pixFmt: "rgba64be", data: rgba64 }, []],
      ["palette.png", { pixFmt: "rgb24", data: CARD }, [
        "-vf",
        "split[a][b];[a]palettegen=reserve_transparent=0[p];[b][p]paletteuse=dither=none",
        "-pix_fmt",
        "pal8",
      ]],
    ];
    for (const [name, pixels, outArgs] of cases) {
      const path = join(dir, name);
      await makePng(path, [4, 2], pixels, outArgs);
      for (const decoder of DECODERS) {
        const image = await decodeImageFile(path, { decoder });
        assert.equal(image.width, 4, `${name} ${decoder}`);
        assert.equal(image.height, 2, `${name} ${decoder}`);
        const sixteenBit = name === "rgb48.png" || name === "rgba64.png";
        if (decoder === "ffmpeg" && sixteenBit) {
          // swscale's 16-to-8-bit conversion puts some samples one level
          // off (G 0x8080 comes out 129).
          assert.ok(sampleDiff(image.data, CARD).max <= 1, name);
        } else {
          assert.deepEqual(image.data, CARD, `${name} ${decoder}`);
        }
      }
    }
    // The files really are what their names say.
    const header = (name: string) =>
      Deno.readFile(join(dir, name)).then((b) => [b[24], b[25]]);
    assert.deepEqual(await header("rgb48.png"), [16, 2]);
    assert.deepEqual(await header("rgba64.png"), [16, 6]);
    assert.deepEqual(await header("palette.png"), [8, 3]);
    assert.deepEqual(await header("rgba.png"), [8, 6]);
  });
});

Deno.test("`decodeImageFile()` brings any 16-bit sample within 1 level of its exact 8-bit value", async () => {
  await withTempDir(async (dir) => {
    // 16-bit RGB samples that are not multiples of 257, big-endian.
    const samples = [
      0x0000,
      0x0080,
      0x017f,
      0x7fff,
      0x8000,
      0x80ff,
      0xfeff,
      0xffff,
    ];
    const rgb48 = new Uint8Array(samples.length * 3 * 2);
    samples.forEach((v, i) => {
      for (let c = 0; c < 3; c++) {
        rgb48.set([v >> 8, v & 0xff], (i * 3 + c) * 2);
      }
    });
    const path = join(dir, "rgb48.png");
    await makePng(path, [4, 2], { pixFmt: "rgb48be", data: rgb48 }, []);
    // v * 255 / 65535, by hand: 0, 0.498, 1.486, 127.498, 127.502, 128.498,
    // 254.004, 255.
    const exact = [0, 0.498, 1.486, 127.498, 127.502, 128.498, 254.004, 255];
    for (const decoder of DECODERS) {
      const image = await decodeImageFile(path, { decoder });
      for (let i = 0; i < samples.length; i++) {
        for (let c = 0; c < 3; c++) {
          const got = image.data[i * 3 + c];
          assert.ok(
            Math.abs(got - exact[i]) <= 1,
            `${decoder}: 0x${samples[i].toString(16)} -> ${got}`,
          );
        }
      }
    }
  });
});

Deno.test("`decodeImageFile()` turns 8-bit and 16-bit grayscale PNGs into equal R, G and B", async () => {
  await withTempDir(async (dir) => {
    const gray = new Uint8Array([0, 50, 200, 255]);
    const expected = new Uint8Array([
      0,
      0,
      0,
      50,
      50,
      50,
      200,
      200,
      200,
      255,
      255,
      255,
    ]);
    for (
      const [name, outArgs, ihdr] of [
        ["gray8.png", [], [8, 0]],
        ["gray16.png", ["-pix_fmt", "gray16be"], [16, 0]],
        ["gray_alpha16.png", ["-pix_fmt", "ya16be"], [16, 4]],
      ] as const
    ) {
      const path = join(dir, name);
      await makePng(path, [2, 2], { pixFmt: "gray", data: gray }, [...outArgs]);
      const bytes = await Deno.readFile(path);
      assert.deepEqual([bytes[24], bytes[25]], ihdr, name);
      for (const decoder of DECODERS) {
        const image = await decodeImageFile(path, { decoder });
        assert.equal(image.width, 2);
        assert.equal(image.height, 2);
        assert.deepEqual(image.data, expected, `${name} ${decoder}`);
      }
    }
  });
});

Deno.test("`decodeImageFile()` returns a 1x1 image for a 1-pixel PNG", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "one.png");
    await makePng(path, [1, 1], {
      pixFmt: "rgb24",
      data: new Uint8Array([7, 8, 9]),
    }, []);
    for (const decoder of DECODERS) {
      const image = await decodeImageFile(path, { decoder });
      assert.deepEqual(image, {
        width: 1,
        height: 1,
        data: new Uint8Array([7, 8, 9]),
      }, decoder);
    }
  });
});

Deno.test("`decodeImageFile()` gives one line naming the file when it is corrupt, cut short or not an image", async () => {
  await withTempDir(async (dir) => {
    const jpeg = join(dir, "good.jpg");
    await ffmpeg(["-i", STILL, "-q:v", "3", jpeg]);
    const bytes = await Deno.readFile(jpeg);

    // A quantisation table with an invalid precision nibble (5).
    const badTable = join(dir, "bad_table.jpg");
    const dqt = bytes.findIndex((b, i) => b === 0xff && bytes[i + 1] === 0xdb);
    const broken = bytes.slice();
    broken[dqt + 4] = 0x50;
    await Deno.writeFile(badTable, broken);
    // sharp refuses it, then ffmpeg does, and its reason is reported.
    await rejectsOneLine(
      decodeImageFile(badTable),
      `Cannot decode image ${badTable}: ffmpeg failed: mjpeg: dqt: invalid precision`,
    );
    await rejectsOneLine(
      decodeImageFile(badTable, { decoder: "sharp" }),
      new RegExp(`^Cannot decode image ${badTable}: sharp failed: .+`),
    );

    // Compressed PNG data scrambled in the middle of the first IDAT chunk.
    const png = await Deno.readFile(STILL);
    const idat = new TextDecoder("latin1").decode(png).indexOf("IDAT");
    for (let i = idat + 1000; i < idat + 1100; i++) png[i] ^= 0x5a;
    const badPng = join(dir, "scrambled.png");
    await Deno.writeFile(badPng, png);
    await rejectsOneLine(
      decodeImageFile(badPng),
      new RegExp(`^Cannot decode image ${badPng}: ffmpeg failed: png: .+`),
    );
    await rejectsOneLine(
      decodeImageFile(badPng, { decoder: "sharp" }),
      new RegExp(`^Cannot decode image ${badPng}: sharp failed: .+`),
    );

    const cut = join(dir, "cut.jpg");
    await Deno.writeFile(cut, bytes.subarray(0, bytes.length >> 1));
    for (const decoder of DECODERS) {
      await rejectsOneLine(
        decodeImageFile(cut, { decoder }),
        `Cannot decode image ${cut}: the JPEG file is cut short`,
      );
    }

    const text = join(dir, "notes.png");
    await Deno.writeTextFile(text, "hello");
    await rejectsOneLine(
      decodeImageFile(text),
      `Cannot decode image ${text}: not a JPEG or PNG image`,
    );

    const empty = join(dir, "empty.jpg");
    await Deno.writeFile(empty, new Uint8Array());
    await rejectsOneLine(
      decodeImageFile(empty),
      `Cannot decode image ${empty}: not a JPEG or PNG image`,
    );

    const missing = join(dir, "absent.png");
    await rejectsOneLine(
      decodeImageFile(missing),
      `Cannot decode image ${missing}: file not found`,
    );
  });
});

Deno.test("`decodeImageFile()` refuses an image larger than maxPixels before decoding", async () => {
  await rejectsOneLine(
    decodeImageFile(STILL, { maxPixels: 1280 * 720 - 1 }),
    `Cannot decode image ${STILL}: 1280x720 is more than maxPixels 921599`,
  );
  const image = await decodeImageFile(STILL, { maxPixels: 1280 * 720 });
  assert.equal(image.width, 1280);
});

Deno.test("`decodeImageFile()` rejects an unknown decoder", async () => {
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    decodeImageFile(STILL, { decoder: "libjpeg" as any }),
    {
      name: "RangeError",
      message:
        "Cannot decode image as 'decoder' must be auto, sharp or ffmpeg: current value is libjpeg",
    },
  );
});

Deno.test("`decodeImageFile()` decodes with ffmpeg a lossless JPEG that sharp cannot decode", async () => {
  await withTempDir(async (dir) => {
    // ffmpeg's ljpeg encoder writes a lossless (SOF3) 9-bit JPEG, which
    // sharp 0.35's libjpeg refuses.
    const path = join(dir, "lossless.jpg");
    await makePng(path, [4, 2], { pixFmt: "rgb24", data: CARD }, [
      "-c:v",
      "ljpeg",
      "-pix_fmt",
      "bgr24",
    ]);
    const header = readImageHeader(await Deno.readFile(path));
    assert.deepEqual([header.format, header.bitDepth], ["jpeg", 9]);
    await rejectsOneLine(
      decodeImageFile(path, { decoder: "sharp" }),
      new RegExp(`^Cannot decode image ${path}: sharp failed: .*precision 9`),
    );
    for (const decoder of ["auto", "ffmpeg"] as const) {
      const image = await decodeImageFile(path, { decoder });
      assert.deepEqual(image, { width: 4, height: 2, data: CARD }, decoder);
    }
  });
});

Deno.test("`decodeImageFile()` falls back to ffmpeg and says so once when sharp cannot load", async () => {
  // Without --allow-ffi sharp's native addon cannot load.
  const module = new URL("../../src/ingest/image_decode.ts", import.meta.url);
  const script = `
    import { decodeImageFile } from ${JSON.stringify(module.href)};
    const lines = [];
    const log = (msg) => lines.push(msg);
    const images = [];
    for (let i = 0; i < 2; i++) {
      const image = await decodeImageFile(Deno.args[0], { log });
      images.push([image.width, image.height, [...image.data]]);
    }
    const forced = await decodeImageFile(Deno.args[0], { decoder: "sharp" })
      .then(() => "decoded", (error) => error.message);
    console.log(JSON.stringify({ lines, images, forced }));
  `;
  await withTempDir(async (dir) => {
    const path = join(dir, "card.png");
    await makePng(path, [4, 2], { pixFmt: "rgb24", data: CARD }, []);
    const out = await runScript(script, {
      flags: ["--allow-read", "--allow-run=ffmpeg", "--allow-env"],
      args: [path],
    });
    assert.ok(out.success, out.stderr);
    const result = JSON.parse(out.stdout);
    assert.equal(result.lines.length, 1, JSON.stringify(result.lines));
    assert.match(
      result.lines[0],
      /^sharp cannot load \(.*--allow-ffi.*\): decoding images with ffmpeg instead/,
    );
    assert.ok(!result.lines[0].includes("\n"));
    assert.deepEqual(result.images, [[4, 2, [...CARD]], [4, 2, [...CARD]]]);
    assert.match(
      result.forced,
      new RegExp(`^Cannot decode image ${path}: sharp cannot load: .+`),
    );
  });
});

Deno.test("`readImageHeader()` reads size, depth and colour of JPEG and PNG headers", async () => {
  const still = await Deno.readFile(STILL);
  assert.deepEqual(readImageHeader(still), {
    format: "png",
    width: 1280,
    height: 720,
    bitDepth: 8,
    gray: false,
  });
  assert.equal(isCompleteImage(still, "png"), true);
  assert.equal(isCompleteImage(still.subarray(0, 5000), "png"), false);

  // A minimal JPEG: SOI, APP0 (length 4), SOF0 640x480 with 1 component, SOS, EOI.
  const jpeg = new Uint8Array([
    0xff,
    0xd8,
    0xff,
    0xe0,
    0x00,
    0x04,
    0x00,
    0x00,
    0xff,
    0xc0,
    0x00,
    0x0b,
    0x08,
    0x01,
    0xe0,
    0x02,
    0x80,
    0x01,
    0x01,
    0x11,
    0x00,
    0xff,
    0xda,
    0x00,
    0x02,
    0x12,
    0x34,
    0xff,
    0xd9,
  ]);
  assert.deepEqual(readImageHeader(jpeg), {
    format: "jpeg",
    width: 640,
    height: 480,
    bitDepth: 8,
    gray: true,
  });
  assert.equal(isCompleteImage(jpeg, "jpeg"), true);
  assert.equal(
    isCompleteImage(jpeg.subarray(0, jpeg.length - 2), "jpeg"),
    false,
  );
  assert.throws(() => readImageHeader(jpeg.subarray(0, 8)), {
    message: "JPEG has no frame header (SOF) before its image data",
  });
});
