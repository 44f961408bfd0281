/**
 * Decoding of fast-plate-ocr outputs: per-slot softmax (`[N, slots, 37]`)
 * to text, and the v2 region head (`[N, 66]`) to a country name. Pure, no
 * I/O.
 *
 * @module
 */

import type { PlateRead } from "../shared/mod.ts";

/** Alphabet of the fast-plate-ocr latin models, in output order; `_` is the pad. */
export const PLATE_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_";

/**
 * The 66 `plate_regions` of `cct_xs_v2_global_plate_config.yaml`, in the
 * order of the `region` output.
 */
export const V2_REGIONS: readonly string[] = [
  "Albania",
  "Andorra",
  "Argentina",
  "Armenia",
  "Australia",
  "Austria",
  "Azerbaijan",
  "Bahrain",
  "Belarus",
  "Belgium",
  "Bosnia and Herzegovina",
  "Brazil",
  "Bulgaria",
  "Cambodia",
  "Canada",
  "Croatia",
  "Cyprus",
  "Czech Republic",
  "Denmark",
  "Estonia",
  "Finland",
  "France",
  "Georgia",
  "Germany",
  "Gibraltar",
  "Greece",
  "Guernsey",
  "Hungary",
  "Iceland",
  "Indonesia",
  "Ireland",
  "Israel",
  "Italy",
  "Latvia",
  "Liechtenstein",
  "Lithuania",
  "Luxembourg",
  "Malaysia",
  "Malta",
  "Mexico",
  "Moldova",
  "Monaco",
  "Montenegro",
  "Netherlands",
  "New Zealand",
  "North Macedonia",
  "Norway",
  "Poland",
  "Portugal",
  "Qatar",
  "Romania",
  "San Marino",
  "Serbia",
  "Singapore",
  "Slovakia",
  "Slovenia",
  "Spain",
  "Sweden",
  "Switzerland",
  "Thailand",
  "Turkey",
  "United States",
  "Ukraine",
  "United Kingdom",
  "Vietnam",
  "Unknown",
];

/** Options for {@linkcode decodePlateSlots}. */
export interface DecodePlateSlotsOptions {
  /** Number of slots per plate (9 for cct_xs_v1, 10 for cct_xs_v2). */
  slots: number;
  /** Characters in output order, e.g. {@linkcode PLATE_ALPHABET}. */
  alphabet: string;
  /** The padding character; it must be in `alphabet`. @default {"_"} */
  padChar?: string;
  /** Which plate of the batch to decode. @default {0} */
  index?: number;
  /** Number of candidates kept per slot in `slotTop`. @default {3} */
  topK?: number;
}

/**
 * Decodes one plate of a fast-plate-ocr output `[N, slots, alphabet]`.
 *
 * Each slot takes its most likely character (the first one on a tie). The
 * text is those characters with **every** pad removed, wherever it sits, as
 * fast-plate-ocr does: a pad between characters (`AB_12`) gives `AB12`. Such
 * a reading is still visible in `slotTop`, which keeps every slot, pads
 * included (shown as `_`), for format rules and voting to judge.
 * `charProbs` holds the probability of each kept character and `confidence`
 * their mean (0 when the text is empty).
 *
 * @example
 * ```ts
 * import { decodePlateSlots } from "./ocr_decode.ts";
 * import assert from "node:assert/strict";
 * const probs = new Float32Array([0.75, 0.25, 0, 0.25, 0, 0.75]); // [1, 2, 3]
 * const read = decodePlateSlots(probs, { slots: 2, alphabet: "AB_", topK: 1 });
 * assert.equal(read.text, "A");
 * assert.deepEqual(read.slotTop, [[["A", 0.75]], [["_", 0.75]]]);
 * ```
 * @param probs The plate output's data.
 * @param options Slot count, alphabet, pad, batch index and top-K.
 * @returns The reading, without a region.
 * @throws {RangeError} When the length does not match, `index` is outside the batch, `padChar` is not in the alphabet or `topK` < 1.
 */
export function decodePlateSlots(
  probs: Float32Array,
  options: DecodePlateSlotsOptions,
): PlateRead {
  const { slots, alphabet, padChar = "_", index = 0, topK = 3 } = options;
  const nChars = alphabet.length;
  const plateLen = slots * nChars;
  if (!Number.isInteger(slots) || slots < 1 || nChars < 1) {
    throw new RangeError(
      `Cannot decode plate as 'slots' and the alphabet must be non-empty: current value is ${slots} slots of ${nChars} characters`,
    );
  }
  if (probs.length % plateLen !== 0) {
    throw new RangeError(
      `Cannot decode plate as the output has ${probs.length} values: expected a multiple of ${slots} slots x ${nChars} characters`,
    );
  }
  const batch = probs.length / plateLen;
  if (!Number.isInteger(index) || index < 0 || index >= batch) {
    throw new RangeError(
      `Cannot decode plate as 'index' must be in 0..${
        batch - 1
      }: current value is ${index}`,
    );
  }
  const padIndex = alphabet.indexOf(padChar);
  if (padChar.length !== 1 || padIndex < 0) {
    throw new RangeError(
      `Cannot decode plate as 'padChar' must be one character of the alphabet: current value is "${padChar}"`,
    );
  }
  if (!Number.isInteger(topK) || topK < 1) {
    throw new RangeError(
      `Cannot decode plate as 'topK' must be an integer >= 1: current value is ${topK}`,
    );
  }
  const k = Math.min(topK, nChars);
  const taken = new Uint8Array(nChars);
  let text = "";
  const charProbs: number[] = [];
  const slotTop: Array<Array<[string, number]>> = [];
  for (let slot = 0; slot < slots; slot++) {
    const base = index * plateLen + slot * nChars;
    taken.fill(0);
    const top: Array<[string, number]> = [];
    for (let rank = 0; rank < k; rank++) {
      let best = -1;
      let bestP = -Infinity;
      for (let c = 0; c < nChars; c++) {
        if (!taken[c] && probs[base + c] > bestP) {
          bestP = probs[base + c];
          best = c;
        }
      }
      if (best < 0) break;
      taken[best] = 1;
      top.push([best === padIndex ? "_" : alphabet[best], bestP]);
      if (rank === 0 && best !== padIndex) {
        text += alphabet[best];
        charProbs.push(bestP);
      }
    }
    slotTop.push(top);
  }
  let sum = 0;
  for (const p of charProbs) sum += p;
  const confidence = charProbs.length > 0 ? sum / charProbs.length : 0;
  return { text, confidence, charProbs, slotTop };
}

/** Options for {@linkcode decodeRegion}. */
export interface DecodeRegionOptions {
  /** Region names in output order, e.g. {@linkcode V2_REGIONS}. */
  regions: readonly string[];
  /** Which plate of the batch to decode. @default {0} */
  index?: number;
}

/** Result of {@linkcode decodeRegion}. */
export interface RegionRead {
  /** The most likely region name. */
  region: string;
  /** Its probability. */
  prob: number;
}

/**
 * Decodes one row of the v2 region head `[N, regions]`: the most likely
 * region (the first one on a tie) and its probability.
 *
 * @example
 * ```ts
 * import { decodeRegion } from "./ocr_decode.ts";
 * import assert from "node:assert/strict";
 * const probs = new Float32Array([0.25, 0.75, 0.5, 0.5]); // [2, 2]
 * assert.deepEqual(decodeRegion(probs, { regions: ["A", "B"], index: 1 }), { region: "A", prob: 0.5 });
 * ```
 * @param probs The region output's data.
 * @param options Region names and batch index.
 * @returns Region name and probability.
 * @throws {RangeError} When the length does not match or `index` is outside the batch.
 */
export function decodeRegion(
  probs: Float32Array,
  options: DecodeRegionOptions,
): RegionRead {
  const { regions, index = 0 } = options;
  const n = regions.length;
  if (n < 1 || probs.length % n !== 0) {
    throw new RangeError(
      `Cannot decode region as the output has ${probs.length} values: expected a multiple of ${n} regions`,
    );
  }
  const batch = probs.length / n;
  if (!Number.isInteger(index) || index < 0 || index >= batch) {
    throw new RangeError(
      `Cannot decode region as 'index' must be in 0..${
        batch - 1
      }: current value is ${index}`,
    );
  }
  const base = index * n;
  let best = 0;
  for (let r = 1; r < n; r++) {
    if (probs[base + r] > probs[base + best]) best = r;
  }
  return { region: regions[best], prob: probs[base + best] };
}
