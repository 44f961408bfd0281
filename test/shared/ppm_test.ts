import assert from "node:assert/strict";
import { decodePpm, encodePpm, parsePpmHeader } from "../../src/shared/ppm.ts";

const ascii = (s: string) => new TextEncoder().encode(s);

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A 2x1 image: a red and a blue pixel. */
const PIXELS = new Uint8Array([255, 0, 0, 0, 0, 255]);

Deno.test("`encodePpm()` writes the P6 header and the RGB bytes", () => {
  const bytes = encodePpm({ width: 2, height: 1, data: PIXELS });
  assert.deepEqual(bytes, concat(ascii("P6\n2 1\n255\n"), PIXELS));
  assert.equal(bytes.length, 11 + 6);
});

Deno.test("`decodePpm()` reads back what `encodePpm()` wrote", () => {
  const data = new Uint8Array(3 * 2 * 3).map((_, i) => (i * 37) & 0xff);
  const image = decodePpm(encodePpm({ width: 3, height: 2, data }));
  assert.equal(image.width, 3);
  assert.equal(image.height, 2);
  assert.deepEqual(image.data, data);
});

Deno.test("`decodePpm()` ignores bytes after the pixels", () => {
  const image = decodePpm(
    concat(ascii("P6\n2 1\n255\n"), PIXELS, new Uint8Array([9, 9])),
  );
  assert.deepEqual(image.data, PIXELS);
});

Deno.test("`decodePpm()` reads a header with a comment and odd whitespace", () => {
  const bytes = concat(ascii("P6\n# made by hand\n2\t1\r\n255\n"), PIXELS);
  const image = decodePpm(bytes);
  assert.deepEqual([image.width, image.height], [2, 1]);
  assert.deepEqual(image.data, PIXELS);
});

Deno.test("`decodePpm()` throws on a truncated file", () => {
  const full = encodePpm({ width: 2, height: 1, data: PIXELS });
  for (const length of [0, 1, 5, 10, 11, 16]) {
    assert.throws(
      () => decodePpm(full.subarray(0, length)),
      (err: unknown) =>
        err instanceof SyntaxError &&
        err.message === "Cannot parse frame: truncated PPM",
      `length ${length}`,
    );
  }
  assert.equal(decodePpm(full.subarray(0, 17)).width, 2);
});

Deno.test("`decodePpm()` throws when the max value is not 255", () => {
  assert.throws(
    () => decodePpm(concat(ascii("P6\n1 1\n65535\n"), new Uint8Array(6))),
    (err: unknown) =>
      err instanceof SyntaxError &&
      err.message ===
        "Cannot parse frame: PPM max value must be 255: current value is 65535",
  );
  assert.throws(
    () => decodePpm(concat(ascii("P6\n1 1\n15\n"), new Uint8Array(3))),
    /current value is 15$/,
  );
});

Deno.test("`decodePpm()` throws on other formats", () => {
  assert.throws(
    () => decodePpm(ascii("P3\n1 1\n255\n0 0 0\n")),
    /not a binary PPM \(P6\)/,
  );
  assert.throws(
    () => decodePpm(ascii("\x89PNG\r\n\x1a\n....")),
    SyntaxError,
  );
  assert.throws(
    () => decodePpm(ascii("P6\nx 1\n255\n...")),
    /malformed PPM header/,
  );
});

Deno.test("`parsePpmHeader()` returns null until the header is complete", () => {
  const header = "P6\n12 34\n255\n";
  for (let n = 0; n < header.length; n++) {
    assert.equal(parsePpmHeader(ascii(header.slice(0, n))), null, `n=${n}`);
  }
  assert.deepEqual(parsePpmHeader(ascii(header)), {
    width: 12,
    height: 34,
    dataOffset: header.length,
  });
});

Deno.test("`parsePpmHeader()` reads a header at an offset", () => {
  const bytes = concat(new Uint8Array(5), ascii("P6 7 8 255 "), PIXELS);
  assert.deepEqual(parsePpmHeader(bytes, 5), {
    width: 7,
    height: 8,
    dataOffset: 5 + 11,
  });
});
