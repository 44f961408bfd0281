/**
 * Format-aware correction of OCR plate reads, as constrained decoding. Pure,
 * no I/O.
 *
 * The OCR gives, for every slot, its top candidates with probabilities
 * (`PlateRead.slotTop`). A plate format is a pattern of slot classes (`L`
 * letter, `D` digit, `A` any), and every slot after the pattern's length must
 * be padding. Under a pattern, the most likely text picks, per slot, the most
 * likely candidate of the allowed class. When the plain argmax text fits no
 * format of the plate's region and the constrained text is not much less
 * likely, the constrained text replaces it: this fixes O/0, I/1, B/8, S/5 and
 * similar confusions without ever inventing a character the OCR did not
 * propose.
 *
 * @module
 */

import type { PlateRead } from "../shared/mod.ts";

/** The OCR's padding character, as in its plate config (`pad_char`). */
export const PAD_CHAR = "_";

/** Plate formats of one region. */
export interface RegionFormats {
  /**
   * True when the region's plates follow no pattern we can rely on (many
   * issuers, vanity plates): its reads are never corrected.
   */
  freeForm: boolean;
  /**
   * Patterns as printed on the plate: `L` a letter A-Z, `l` a letter the
   * region issues (not in `neverIssued`), `D` a digit 0-9, `A` either. A
   * space or `-` is a separator printed on the plate and is not an OCR slot.
   * Empty for free-form regions.
   */
  patterns: readonly string[];
  /**
   * Letters the region never issues in its standard series (each rule's
   * source is beside its entry in {@linkcode PLATE_FORMATS}). In patterns
   * they are refused by the `l` class; in a free-form region a read's
   * never-issued letter takes its digit twin (O and Q: 0, I: 1) when the OCR
   * offered that digit in the same slot.
   * @default {""}
   */
  neverIssued?: string;
}

/**
 * German patterns, from the Fahrzeug-Zulassungsverordnung (FZV) par. 8: a
 * district code of 1-3 letters, then 1-2 letters, then 1-4 digits, at most 8
 * characters in all. The district/letters boundary cannot be told from the
 * text, so a pattern is `L{n} D{m}` with n = 2..5 letters, m = 1..4 digits and
 * n + m <= 8. The electric/historic `E`/`H` suffixes are not covered.
 */
function germanPatterns(): string[] {
  const patterns: string[] = [];
  for (let letters = 2; letters <= 5; letters++) {
    for (let digits = 1; digits <= 4; digits++) {
      if (letters + digits > 8) continue;
      patterns.push("L".repeat(letters) + " " + "D".repeat(digits));
    }
  }
  return patterns;
}

/**
 * Plate formats per region. Keys are region names as the OCR's region head
 * gives them (`plate_regions` of `cct_xs_v2_global_plate_config.yaml`), plus
 * "India", which that head does not know (reachable through the `region`
 * option or when the region hint is weak). Only the current general-issue
 * formats are listed; special series (diplomatic, military, trade, temporary)
 * are left out on purpose, since every extra pattern lets more misreads pass
 * uncorrected. To add a region, add a key with its patterns and a source.
 */
export const PLATE_FORMATS: Readonly<Record<string, RegionFormats>> = {
  // gov.uk DVLA guide INF104 "Vehicle registration numbers and number plates":
  // current format since Sept 2001 is 2 letters (memory tag), 2 digits (age
  // identifier), 3 letters; Northern Ireland uses 3 letters and 4 digits.
  // The older prefix format (A123 BCD, 1983-2001) is left out on purpose: a
  // current plate with an O/0 confusion in its second slot (P063 TVF) would
  // fit it and stay uncorrected, and such plates are now rare on the road.
  // Same guide: the letters I and Q are not used in the current format's
  // letters (Q marks vehicles of unknown age on a plate of its own, Q123
  // ABC); Northern Ireland's letter groups do use I (and Z), so its pattern
  // keeps every letter.
  "United Kingdom": {
    freeForm: false,
    patterns: ["llDD lll", "LLL DDDD"],
    neverIssued: "IQ",
  },
  // RDW "kentekens" sidecodes 1-14 (Wikipedia, "Vehicle registration plates
  // of the Netherlands", table "Sidecodes"), in sidecode order. The RDW
  // issues no vowels (so no words form) and none of C, M, Q, W, Y: the
  // letters are B D F G H J K L N P R S T V X Z (same article, "Letters
  // used"; the sidecodes of 1951-1978 are the exception, hence "L" in 1-6).
  "Netherlands": {
    freeForm: false,
    patterns: [
      "LL-DD-DD", // 1
      "DD-DD-LL", // 2
      "DD-LL-DD", // 3
      "LL-DD-LL", // 4
      "LL-LL-DD", // 5
      "DD-LL-LL", // 6
      "DD-lll-D", // 7
      "D-lll-DD", // 8
      "ll-DDD-l", // 9
      "l-DDD-ll", // 10
      "lll-DD-l", // 11
      "l-DD-lll", // 12
      "D-ll-DDD", // 13
      "DDD-ll-D", // 14
    ],
    neverIssued: "ACEIMOQUWY",
  },
  // Wikipedia, "Vehicle registration plates of Romania": county code (1-2
  // letters, B for Bucharest), 2 digits (Bucharest: 2 or 3), 3 letters.
  "Romania": {
    freeForm: false,
    patterns: ["L DD LLL", "L DDD LLL", "LL DD LLL"],
  },
  "Germany": { freeForm: false, patterns: germanPatterns() },
  // Contran Resolution 729/2018: Mercosur plate LLL D L DD; the older
  // national plate (1990-2018) is LLL-DDDD.
  "Brazil": { freeForm: false, patterns: ["LLLDLDD", "LLL-DDDD"] },
  // Central Motor Vehicles Rules 1989, rule 50: state code (2 letters),
  // district (2 digits), series (1-2 letters), number (4 digits).
  "India": { freeForm: false, patterns: ["LL DD LL DDDD", "LL DD L DDDD"] },
  // SIV system since 2009 (arrete du 9 fevrier 2009 fixant les
  // caracteristiques et le mode de pose des plaques d'immatriculation):
  // AA-123-AA, without the letters I, O and U.
  "France": {
    freeForm: false,
    patterns: ["ll-DDD-ll"],
    neverIssued: "IOU",
  },
  // Italian national series since 1994 (Ministero dei trasporti, DPR
  // 495/1992 art. 259 and its 1994 series): AA 123 AA, without I, O, Q, U.
  "Italy": {
    freeForm: false,
    patterns: ["ll DDD ll"],
    neverIssued: "IOQU",
  },
  // Spanish national series since 2000 (Real Decreto 2822/1998, Reglamento
  // General de Vehiculos, anexo XVIII): 1234 BBB, consonants only, without
  // Ñ and Q.
  "Spain": {
    freeForm: false,
    patterns: ["DDDD lll"],
    neverIssued: "AEIOUQ",
  },
  // Each state or province sets its own formats and sells vanity plates, so
  // there is no pattern. Most states' standard (sequential) series skip the
  // letters that look like digits: I, O and Q (for example the Maryland MVA,
  // PennDOT and Virginia DMV series, and Alabama, Florida and Idaho, whose
  // plate look-up rules say to key O as zero). Vanity plates may hold them,
  // so a letter changes only where the OCR itself offered the digit.
  "United States": { freeForm: true, patterns: [], neverIssued: "IOQ" },
  "Canada": { freeForm: true, patterns: [] },
};

/** The OCR region name that means "no idea": treated like a weak hint. */
const UNKNOWN_REGION = "Unknown";

/** Options for {@linkcode applyFormatRules}. */
export interface ApplyFormatRulesOptions {
  /**
   * Region whose formats apply, a key of {@linkcode PLATE_FORMATS}. Overrides
   * the read's own region hint. Left out: the read's `region` when its
   * `regionProb` is at least `minRegionProb`, else every region that is not
   * free-form.
   * @default {undefined}
   */
  region?: string;
  /**
   * The constrained text replaces the raw argmax text only when the ratio of
   * their likelihoods (products of the slot probabilities) is at least this.
   * 0.05 is a prior: it says that about 1 plate in 20 of a region does not
   * follow its listed formats (personalised, foreign, special series), so a
   * format match is worth a factor of up to 20 in likelihood. One O/0 swap
   * with probabilities 0.6/0.35 has a ratio of 0.58 and passes; a swap to a
   * candidate at 0.02 against 0.97 (ratio 0.02) does not.
   * @default {0.05}
   */
  minRatio?: number;
  /**
   * In a free-form region with never-issued letters, such a letter takes its
   * digit twin when the OCR gave the digit at least this fraction of the
   * letter's probability in the same slot. The OCR's top 3 per slot often
   * hold candidates at ~1e-6, which are no offer. Measured on the 40 US
   * crops of the media set: 0.05 corrects none of the two O/0 misreads
   * (`OJW695` with 0 at 0.01, `LUVPOKR` with 0 at 0.04), 0.001 both, and
   * 1e-6 also turns vanity letters into digits (`QUILLS` -> `0U1LLS`).
   * @default {0.001}
   */
  minTwinRatio?: number;
  /**
   * The read's own `region` is trusted when `regionProb` is at least this: a
   * softmax over 66 regions above 0.5 is more likely than all others
   * together.
   * @default {0.5}
   */
  minRegionProb?: number;
}

/** A read after {@linkcode applyFormatRules}. */
export interface FormattedPlateRead extends PlateRead {
  /**
   * The final text laid out with the separators of the format it matches
   * (`"PE63 TVF"`, `"XS-NB-23"`); absent when it matches no listed format.
   */
  formatted?: string;
  /** Region of the matched format (the first in table order when several match). */
  formatRegion?: string;
  /** The OCR's text before correction; present only when the text was corrected. */
  rawText?: string;
}

/** The best text under one pattern. */
interface Decoded {
  text: string;
  charProbs: number[];
  likelihood: number;
  pattern: string;
}

function isLetter(c: string): boolean {
  return c.length === 1 && c >= "A" && c <= "Z";
}

function isDigit(c: string): boolean {
  return c.length === 1 && c >= "0" && c <= "9";
}

function fitsClass(c: string, slotClass: string, neverIssued = ""): boolean {
  if (slotClass === "L") return isLetter(c);
  if (slotClass === "l") return isLetter(c) && !neverIssued.includes(c);
  if (slotClass === "D") return isDigit(c);
  return isLetter(c) || isDigit(c);
}

/** The slot classes of a pattern, separators removed: `"LL-DD-LL"` -> `"LLDDLL"`. */
function slotClasses(pattern: string): string {
  return pattern.replace(/[ -]/g, "");
}

function matchesPattern(
  text: string,
  pattern: string,
  neverIssued = "",
): boolean {
  const classes = slotClasses(pattern);
  if (text.length !== classes.length) return false;
  for (let i = 0; i < text.length; i++) {
    if (!fitsClass(text[i], classes[i], neverIssued)) return false;
  }
  return true;
}

/** Lays out `text` (which matches `pattern`) with the pattern's separators. */
function layOut(text: string, pattern: string): string {
  let out = "";
  let next = 0;
  for (const p of pattern) {
    if (p === " " || p === "-") out += p;
    else out += text[next++];
  }
  return out;
}

/** The most likely candidate of a slot that passes `accept`, or null. */
function bestCandidate(
  slot: Array<[string, number]>,
  accept: (c: string) => boolean,
): [string, number] | null {
  let best: [string, number] | null = null;
  for (const candidate of slot) {
    if (!accept(candidate[0])) continue;
    if (best === null || candidate[1] > best[1]) best = candidate;
  }
  return best;
}

/**
 * The most likely text under `pattern`: per slot the best candidate of the
 * allowed class, then padding in every slot after the pattern. Null when a
 * slot has no allowed candidate among its top ones.
 */
function decodeWithPattern(
  slotTop: Array<Array<[string, number]>>,
  pattern: string,
  neverIssued = "",
): Decoded | null {
  const classes = slotClasses(pattern);
  if (classes.length > slotTop.length) return null;
  let text = "";
  const charProbs: number[] = [];
  let likelihood = 1;
  for (let s = 0; s < slotTop.length; s++) {
    const slot = slotTop[s];
    if (s < classes.length) {
      const slotClass = classes[s];
      const pick = bestCandidate(
        slot,
        (c) => fitsClass(c, slotClass, neverIssued),
      );
      if (pick === null) return null;
      text += pick[0];
      charProbs.push(pick[1]);
      likelihood *= pick[1];
    } else {
      const pad = bestCandidate(slot, (c) => c === PAD_CHAR);
      if (pad === null) return null;
      likelihood *= pad[1];
    }
  }
  return { text, charProbs, likelihood, pattern };
}

/** Product over all slots of the top candidate's probability. */
function argmaxLikelihood(slotTop: Array<Array<[string, number]>>): number {
  let likelihood = 1;
  for (const slot of slotTop) {
    const top = bestCandidate(slot, () => true);
    likelihood *= top === null ? 0 : top[1];
  }
  return likelihood;
}

/** The most likely decoding over every pattern of a region (first wins ties). */
function decodeRegion(
  slotTop: Array<Array<[string, number]>>,
  formats: RegionFormats,
): Decoded | null {
  let best: Decoded | null = null;
  for (const pattern of formats.patterns) {
    const decoded = decodeWithPattern(slotTop, pattern, formats.neverIssued);
    if (decoded === null) continue;
    if (best === null || decoded.likelihood > best.likelihood) best = decoded;
  }
  return best;
}

/** The digit a never-issued letter stands for. */
const DIGIT_TWIN: Readonly<Record<string, string>> = { O: "0", Q: "0", I: "1" };

/**
 * Free-form regions: each never-issued letter of the text whose slot offers
 * its digit twin at `minRatio` or more of the letter's probability takes the
 * digit. Text positions map to the slots whose top candidate is not padding,
 * in order (as the OCR decoder drops them).
 */
function issuedLetters(
  read: PlateRead,
  options: { region: string; neverIssued: string; minRatio: number },
): FormattedPlateRead {
  const { region, neverIssued, minRatio } = options;
  const slotTop = read.slotTop;
  if (neverIssued === "" || slotTop === undefined) return { ...read };
  const slots = slotTop.filter((slot) =>
    bestCandidate(slot, () => true)?.[0] !== PAD_CHAR
  );
  if (slots.length !== read.text.length) return { ...read };
  let text = "";
  const charProbs = [...read.charProbs];
  for (let i = 0; i < read.text.length; i++) {
    const c = read.text[i];
    const twin = neverIssued.includes(c) ? DIGIT_TWIN[c] : undefined;
    const own = slots[i].find(([k]) => k === c)?.[1] ?? 0;
    const digit = twin === undefined
      ? undefined
      : slots[i].find(([k]) => k === twin);
    if (digit !== undefined && own > 0 && digit[1] / own >= minRatio) {
      text += digit[0];
      charProbs[i] = digit[1];
    } else {
      text += c;
    }
  }
  if (text === read.text) return { ...read };
  return {
    ...read,
    text,
    charProbs,
    confidence: charProbs.reduce((a, b) => a + b, 0) / charProbs.length,
    formatRegion: region,
    rawText: read.text,
  };
}

function corrected(
  read: PlateRead,
  decoded: Decoded,
  region: string,
): FormattedPlateRead {
  const sum = decoded.charProbs.reduce((a, b) => a + b, 0);
  return {
    ...read,
    text: decoded.text,
    charProbs: decoded.charProbs,
    confidence: decoded.charProbs.length > 0
      ? sum / decoded.charProbs.length
      : 0,
    formatted: layOut(decoded.text, decoded.pattern),
    formatRegion: region,
    rawText: read.text,
  };
}

/**
 * Checks a read against the plate formats of its region and, when its text
 * fits none, replaces it by the most likely text that fits one.
 *
 * Which regions apply: `options.region` when given; else the read's `region`
 * when `regionProb >= minRegionProb` (a region without listed formats
 * leaves the read alone; a free-form region only swaps its never-issued
 * letters for the digits the OCR offered, see `minTwinRatio`); else (no hint, a weak hint or
 * "Unknown") every region that is not free-form, and then a correction is
 * made only when exactly one distinct constrained text passes `minRatio`
 * over all of them.
 *
 * The raw likelihood is the product over all slots of each slot's top
 * probability; the constrained likelihood is the product of the picked
 * candidates (padding slots included). The read is returned unchanged (a
 * copy) when its text already fits a format of the regions tried (then with
 * `formatted`), when it has no `slotTop` or an empty text, or when no
 * constrained text reaches `minRatio` times the raw likelihood. On a
 * correction, `charProbs` are the picked candidates' probabilities and
 * `confidence` their mean; `slotTop`, `region` and `regionProb` are kept.
 *
 * @example Usage
 * ```ts
 * import { applyFormatRules } from "./plate_format.ts";
 * import assert from "node:assert/strict";
 * const slotTop: Array<Array<[string, number]>> = [
 *   [["P", 0.9]], [["0", 0.55], ["O", 0.4]], [["6", 0.9]], [["3", 0.9]],
 *   [["T", 0.9]], [["V", 0.9]], [["F", 0.9]], [["_", 0.9]],
 * ];
 * const read = {
 *   text: "P063TVF", confidence: 0.84, charProbs: [], slotTop,
 *   region: "United Kingdom", regionProb: 0.9,
 * };
 * const out = applyFormatRules(read);
 * assert.equal(out.text, "PO63TVF");
 * assert.equal(out.formatted, "PO63 TVF");
 * ```
 * @param read One OCR read, with `slotTop` for corrections.
 * @param options Region override and thresholds.
 * @returns A new read, corrected or not, with `formatted` when it fits.
 * @throws {RangeError} When `region` is not a key of `PLATE_FORMATS`, or
 * `minRatio` is not in (0, 1], or `minRegionProb` not in 0..1.
 */
export function applyFormatRules(
  read: PlateRead,
  options: ApplyFormatRulesOptions = {},
): FormattedPlateRead {
  const {
    region,
    minRatio = 0.05,
    minRegionProb = 0.5,
    minTwinRatio = 0.001,
  } = options;
  if (region !== undefined && !Object.hasOwn(PLATE_FORMATS, region)) {
    throw new RangeError(
      `Cannot apply plate format rules as 'region' has no listed formats: current value is "${region}" (known: ${
        Object.keys(PLATE_FORMATS).join(", ")
      })`,
    );
  }
  if (!(minRatio > 0 && minRatio <= 1)) {
    throw new RangeError(
      `Cannot apply plate format rules as 'minRatio' must be in (0, 1]: current value is ${minRatio}`,
    );
  }
  if (!(minTwinRatio > 0 && minTwinRatio <= 1)) {
    throw new RangeError(
      `Cannot apply plate format rules as 'minTwinRatio' must be in (0, 1]: current value is ${minTwinRatio}`,
    );
  }
  if (!(minRegionProb >= 0 && minRegionProb <= 1)) {
    throw new RangeError(
      `Cannot apply plate format rules as 'minRegionProb' must be in 0..1: current value is ${minRegionProb}`,
    );
  }

  // Which regions to try, and whether the hint was weak (then all are tried).
  let regions: string[];
  let tryAll = false;
  const hint = read.region;
  const hintIsStrong = hint !== undefined && hint !== UNKNOWN_REGION &&
    (read.regionProb ?? 0) >= minRegionProb;
  if (region !== undefined) {
    regions = [region];
  } else if (hintIsStrong) {
    if (!Object.hasOwn(PLATE_FORMATS, hint)) return { ...read };
    regions = [hint];
  } else {
    tryAll = true;
    regions = Object.keys(PLATE_FORMATS).filter((r) =>
      !PLATE_FORMATS[r].freeForm
    );
    // A weak hint still decides which region names a match first.
    if (hint !== undefined && regions.includes(hint)) {
      regions = [hint, ...regions.filter((r) => r !== hint)];
    }
  }
  if (!tryAll && PLATE_FORMATS[regions[0]].freeForm) {
    return issuedLetters(read, {
      region: regions[0],
      neverIssued: PLATE_FORMATS[regions[0]].neverIssued ?? "",
      minRatio: minTwinRatio,
    });
  }

  // The raw text already fits a format: keep it.
  for (const r of regions) {
    for (const pattern of PLATE_FORMATS[r].patterns) {
      if (matchesPattern(read.text, pattern, PLATE_FORMATS[r].neverIssued)) {
        return {
          ...read,
          formatted: layOut(read.text, pattern),
          formatRegion: r,
        };
      }
    }
  }
  const slotTop = read.slotTop;
  if (slotTop === undefined || slotTop.length === 0 || read.text === "") {
    return { ...read };
  }

  const rawLikelihood = argmaxLikelihood(slotTop);
  if (!(rawLikelihood > 0)) return { ...read };
  const passing: Array<{ region: string; decoded: Decoded }> = [];
  for (const r of regions) {
    const decoded = decodeRegion(slotTop, PLATE_FORMATS[r]);
    if (decoded === null) continue;
    if (decoded.likelihood / rawLikelihood >= minRatio) {
      passing.push({ region: r, decoded });
    }
  }
  if (passing.length === 0) return { ...read };
  if (tryAll) {
    const texts = new Set(passing.map((p) => p.decoded.text));
    if (texts.size !== 1) return { ...read };
  }
  return corrected(read, passing[0].decoded, passing[0].region);
}
