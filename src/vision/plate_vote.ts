/**
 * Votes the OCR reads of one vehicle track into one plate text. Pure, no I/O.
 *
 * 1. Reads are grouped by text similarity (normalised edit distance), so
 *    `PE63TVF` and `PE63TUF` land in one group.
 * 2. The group with the largest total `weight * confidence` wins.
 * 3. Inside it, the reads of the group's most common length vote per
 *    character position, each with its character probability; a read's
 *    `slotTop` adds the evidence of its second and third candidates.
 * 4. The final text is the per-position winner, so two reads with different
 *    single misreads can still give the right plate.
 *
 * @module
 */

import type { PlateRead } from "../shared/mod.ts";
import { PAD_CHAR } from "./plate_format.ts";
import { normalizedEditDistance } from "../shared/mod.ts";

/** One read to vote, with an optional weight. */
export interface WeightedRead {
  /** The OCR read (usually after format rules). */
  read: PlateRead;
  /**
   * How much this read counts, for example the plate detector score or the
   * crop size; multiplies every vote of the read.
   * @default {1}
   */
  weight?: number;
}

/** Options for {@linkcode votePlate}. */
export interface VotePlateOptions {
  /**
   * Fewest reads with a non-empty text needed to give a result.
   * @default {1}
   */
  minReads?: number;
  /**
   * Two texts are grouped when their normalised edit distance (edits divided
   * by the longer length) is at most this. 0.3 joins one edit on plates of 4
   * or more characters and two edits on plates of 7 or more.
   * @default {0.3}
   */
  maxGroupDistance?: number;
}

/** The voted plate of one track. */
export interface PlateVote {
  /** The voted text. */
  text: string;
  /**
   * Confidence in 0..1: the mean over positions of the weighted mean
   * probability the voting reads give the winning character, times the
   * winning group's share of all `weight * confidence`. For a single read
   * without `slotTop` it equals that read's confidence.
   */
  confidence: number;
  /** Number of reads whose text equals `text` exactly. */
  support: number;
  /**
   * Index (in the input) of the read that best represents `text`: the most
   * confident exact match, else the most confident read of the winning group.
   */
  bestIndex: number;
}

/** A leader-clustered group of distinct texts. */
interface Group {
  texts: string[];
  weight: number;
}

function isLetter(c: string): boolean {
  return c >= "A" && c <= "Z";
}

/** The candidates `read` votes with at `position`, as `[char, prob]`. */
function positionEvidence(
  read: PlateRead,
  position: number,
  aligned: boolean,
): Array<[string, number]> {
  const own = read.text[position];
  if (!aligned || read.slotTop === undefined) {
    const p = read.charProbs[position] ?? read.confidence;
    return [[own, p]];
  }
  const slot = read.slotTop[position];
  let top = slot[0];
  for (const candidate of slot) if (candidate[1] > top[1]) top = candidate;
  // When the read's character is not its slot's top candidate, format rules
  // chose it by class; then only candidates of the same class count.
  const corrected = top[0] !== own;
  const evidence: Array<[string, number]> = [];
  for (const [c, p] of slot) {
    if (c === PAD_CHAR) continue;
    if (corrected && isLetter(c) !== isLetter(own)) continue;
    evidence.push([c, p]);
  }
  return evidence;
}

/** True when every character of the text is among its slot's candidates. */
function slotTopAligned(read: PlateRead): boolean {
  const slotTop = read.slotTop;
  if (slotTop === undefined || slotTop.length < read.text.length) return false;
  for (let i = 0; i < read.text.length; i++) {
    if (!slotTop[i].some(([c]) => c === read.text[i])) return false;
  }
  return true;
}

/**
 * Votes the reads of one vehicle track into one plate text.
 *
 * Grouping: distinct texts are visited by total `weight * confidence`
 * (heaviest first, ties by text); each unvisited text starts a group and takes
 * every unvisited text within `maxGroupDistance` of it. The heaviest group
 * wins (ties: the one started first). Voting: only reads of the group's
 * heaviest length vote; a read adds `weight * p` for its character at each
 * position, and with `slotTop` (when its text lines up with it) for every
 * non-pad candidate of that slot too; where format rules replaced the slot's
 * top candidate, only candidates of the replaced character's class (letter or
 * digit) count. The winner per position is the largest sum (ties: the smaller
 * character).
 *
 * @example Usage
 * ```ts
 * import { votePlate } from "./plate_vote.ts";
 * import assert from "node:assert/strict";
 * const read = (text: string) => ({
 *   read: { text, confidence: 0.9, charProbs: [...text].map(() => 0.9) },
 * });
 * const vote = votePlate([read("PE63TVF"), read("PE63TUF"), read("PE63TVF")]);
 * assert.equal(vote?.text, "PE63TVF");
 * assert.equal(vote?.support, 2);
 * ```
 * @param reads The reads of one track, with optional weights.
 * @param options Minimum read count and grouping distance.
 * @returns The vote, or null when fewer than `minReads` reads have text.
 * @throws {RangeError} When `minReads` is not an integer >= 1,
 * `maxGroupDistance` is not in 0..1, or a weight is negative or not finite.
 */
export function votePlate(
  reads: WeightedRead[],
  options: VotePlateOptions = {},
): PlateVote | null {
  const { minReads = 1, maxGroupDistance = 0.3 } = options;
  if (!Number.isInteger(minReads) || minReads < 1) {
    throw new RangeError(
      `Cannot vote plate reads as 'minReads' must be an integer >= 1: current value is ${minReads}`,
    );
  }
  if (!(maxGroupDistance >= 0 && maxGroupDistance <= 1)) {
    throw new RangeError(
      `Cannot vote plate reads as 'maxGroupDistance' must be in 0..1: current value is ${maxGroupDistance}`,
    );
  }
  for (const r of reads) {
    const w = r.weight ?? 1;
    if (!(Number.isFinite(w) && w >= 0)) {
      throw new RangeError(
        `Cannot vote plate reads as a 'weight' must be a finite number >= 0: current value is ${w}`,
      );
    }
  }

  const usable: number[] = [];
  for (let i = 0; i < reads.length; i++) {
    if (reads[i].read.text.length > 0) usable.push(i);
  }
  if (usable.length === 0 || usable.length < minReads) return null;

  const weightOf = (i: number) =>
    (reads[i].weight ?? 1) * Math.max(0, reads[i].read.confidence);

  // 1. Group distinct texts around the heaviest ones.
  const textWeight = new Map<string, number>();
  for (const i of usable) {
    const t = reads[i].read.text;
    textWeight.set(t, (textWeight.get(t) ?? 0) + weightOf(i));
  }
  const distinct = [...textWeight.keys()].sort((a, b) =>
    textWeight.get(b)! - textWeight.get(a)! || (a < b ? -1 : a > b ? 1 : 0)
  );
  const visited = new Set<string>();
  const groups: Group[] = [];
  for (const leader of distinct) {
    if (visited.has(leader)) continue;
    const group: Group = { texts: [], weight: 0 };
    for (const t of distinct) {
      if (visited.has(t)) continue;
      if (normalizedEditDistance(leader, t) <= maxGroupDistance) {
        visited.add(t);
        group.texts.push(t);
        group.weight += textWeight.get(t)!;
      }
    }
    groups.push(group);
  }
  let winner = groups[0];
  for (const g of groups) if (g.weight > winner.weight) winner = g;
  const inGroup = new Set(winner.texts);
  const members = usable.filter((i) => inGroup.has(reads[i].read.text));

  // 2. The group's heaviest text length (ties: the leader's length).
  const lengthWeight = new Map<number, number>();
  for (const i of members) {
    const n = reads[i].read.text.length;
    lengthWeight.set(n, (lengthWeight.get(n) ?? 0) + weightOf(i));
  }
  let length = winner.texts[0].length;
  for (const [n, w] of lengthWeight) {
    if (w > lengthWeight.get(length)!) length = n;
  }
  const voters = members.filter((i) => reads[i].read.text.length === length);

  // 3. Per-position vote.
  const votes: Array<Map<string, number>> = [];
  for (let j = 0; j < length; j++) votes.push(new Map());
  let voterWeight = 0;
  for (const i of voters) {
    const { read } = reads[i];
    const w = reads[i].weight ?? 1;
    voterWeight += w;
    const aligned = slotTopAligned(read);
    for (let j = 0; j < length; j++) {
      for (const [c, p] of positionEvidence(read, j, aligned)) {
        votes[j].set(c, (votes[j].get(c) ?? 0) + w * p);
      }
    }
  }
  let text = "";
  let shareSum = 0;
  for (let j = 0; j < length; j++) {
    let best = "";
    let bestVote = -1;
    for (const [c, v] of votes[j]) {
      if (v > bestVote || (v === bestVote && c < best)) {
        best = c;
        bestVote = v;
      }
    }
    text += best;
    shareSum += voterWeight > 0 ? bestVote / voterWeight : 0;
  }

  // 4. Confidence, support and the representative read.
  let totalWeight = 0;
  for (const i of usable) totalWeight += weightOf(i);
  const groupShare = totalWeight > 0 ? winner.weight / totalWeight : 1;
  const confidence = Math.min(1, (shareSum / length) * groupShare);
  let support = 0;
  let bestExact = -1;
  let bestMember = -1;
  for (const i of usable) {
    const conf = reads[i].read.confidence;
    if (reads[i].read.text === text) {
      support++;
      if (bestExact < 0 || conf > reads[bestExact].read.confidence) {
        bestExact = i;
      }
    }
  }
  for (const i of members) {
    const conf = reads[i].read.confidence;
    if (bestMember < 0 || conf > reads[bestMember].read.confidence) {
      bestMember = i;
    }
  }
  return {
    text,
    confidence,
    support,
    bestIndex: bestExact >= 0 ? bestExact : bestMember,
  };
}
