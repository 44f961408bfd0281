/**
 * A clip's stable id: the sha256 of its content, so the same clip seen twice
 * (renamed, copied from USB again) is processed once.
 *
 * @module
 */
/**
 * The video id used in the graph: the first 16 hex digits of the content
 * hash (64 bits: collisions are out of reach for one vehicle's clips).
 *
 * @param sha256 The clip's full sha256.
 * @returns The id.
 */
export function videoIdFromHash(sha256: string): string {
  return sha256.slice(0, 16);
}
