/**
 * The `held_tracks` table and the segment look-ups around it: tracks seen
 * at a segment's end wait here (across restarts and power cuts) for the
 * next segment of the same camera (see `segment_chain.ts` for the rule).
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { cachedStatement, type FinalEvent } from "../shared/mod.ts";
import { type HeldTrack, isContiguous } from "./segment_chain.ts";
import type { VideoRow } from "./video_store.ts";

interface HeldRow {
  event_key: string;
  chain_key: string;
  video_id: string;
  end_ms: number;
  text: string;
  support: number;
  event: string;
  held_at: number;
  segments: number;
}

function toHeld(r: HeldRow): HeldTrack {
  return {
    eventKey: r.event_key,
    chainKey: r.chain_key,
    videoId: r.video_id,
    endMs: Number(r.end_ms),
    text: r.text,
    support: Number(r.support),
    event: JSON.parse(r.event) as FinalEvent,
    heldAt: Number(r.held_at),
    segments: Number(r.segments),
  };
}

/**
 * Stores held tracks (a row with the same key is replaced: a chain held
 * again at the next segment's end).
 *
 * @param db The database.
 * @param rows The tracks.
 */
export function putHeldTracks(
  db: DatabaseSync,
  rows: readonly HeldTrack[],
): void {
  const stmt = cachedStatement(
    db,
    `INSERT OR REPLACE INTO held_tracks
       (event_key, chain_key, video_id, end_ms, text, support, event, held_at, segments)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const h of rows) {
    stmt.run(
      h.eventKey,
      h.chainKey,
      h.videoId,
      Math.round(h.endMs),
      h.text,
      h.support,
      JSON.stringify(h.event),
      Math.round(h.heldAt),
      h.segments,
    );
  }
}

/**
 * Deletes held tracks by key.
 *
 * @param db The database.
 * @param keys Their event keys.
 */
export function deleteHeldTracks(
  db: DatabaseSync,
  keys: readonly string[],
): void {
  const stmt = cachedStatement(
    db,
    "DELETE FROM held_tracks WHERE event_key = ?",
  );
  for (const k of keys) stmt.run(k);
}

/**
 * Tracks held at the end of a segment that a clip starting at `startMs`
 * continues: same chain key, segment end within `gapS`.
 *
 * @param db The database.
 * @param options Chain key, the later clip's start (epoch ms), tolerance (s), and the clip itself (never its own).
 * @returns The held tracks, oldest first.
 */
export function heldTracksBefore(
  db: DatabaseSync,
  options: { chainKey: string; startMs: number; gapS: number; videoId: string },
): HeldTrack[] {
  const span = Math.ceil(options.gapS * 1000);
  return (cachedStatement(
    db,
    `SELECT * FROM held_tracks
      WHERE chain_key = ? AND end_ms BETWEEN ? AND ? AND video_id != ?
      ORDER BY held_at, event_key`,
  ).all(
    options.chainKey,
    options.startMs - span,
    options.startMs + span,
    options.videoId,
  ) as unknown as HeldRow[]).map(toHeld);
}

/**
 * All held tracks, oldest first (small: at most the tracks at the end of
 * the last segment of each camera).
 *
 * @param db The database.
 * @returns The held tracks.
 */
export function listHeldTracks(db: DatabaseSync): HeldTrack[] {
  return (cachedStatement(
    db,
    "SELECT * FROM held_tracks ORDER BY held_at, event_key",
  ).all() as unknown as HeldRow[]).map(toHeld);
}

/** A clip's place in its camera's chain of segments. */
export interface ClipSpan {
  /** Chain key (camera id and channel). */
  chainKey: string;
  /** Start, epoch ms. */
  startMs: number;
  /** End (start + stated duration), epoch ms. */
  endMs: number;
}

/**
 * A clip's chain key, start and end, or null when it has no start time.
 *
 * @param v Its row.
 * @returns The span.
 */
export function clipSpan(v: VideoRow): ClipSpan | null {
  const startMs = v.start_time ? Date.parse(v.start_time) : NaN;
  if (!Number.isFinite(startMs)) return null;
  return {
    chainKey: v.chain_key ?? "",
    startMs,
    endMs: startMs + (v.duration_s ?? 0) * 1000,
  };
}

function unfinishedOfChain(db: DatabaseSync, chainKey: string): VideoRow[] {
  return cachedStatement(
    db,
    `SELECT * FROM video_metadata
      WHERE chain_key = ? AND status NOT IN ('done', 'failed')`,
  ).all(chainKey) as unknown as VideoRow[];
}

/**
 * The unfinished clip (not done, not failed) of the same camera that ends
 * where `clip` starts: `clip` must wait for it, so its held tracks exist
 * before `clip`'s are planned.
 *
 * @param db The database.
 * @param options The clip's row and the gap tolerance (s).
 * @returns The earlier clip's id, or null.
 */
export function unfinishedPredecessor(
  db: DatabaseSync,
  options: { clip: VideoRow; gapS: number },
): string | null {
  const span = clipSpan(options.clip);
  if (!span) return null;
  for (const v of unfinishedOfChain(db, span.chainKey)) {
    if (v.video_id === options.clip.video_id) continue;
    const s = clipSpan(v);
    // Strictly earlier: two clips of one start (a copy, zero durations)
    // must never wait for each other.
    if (
      s && s.startMs < span.startMs &&
      isContiguous(s.endMs, span.startMs, options.gapS)
    ) {
      return v.video_id;
    }
  }
  return null;
}

/**
 * Held tracks that waited `holdS` seconds or more and whose next segment is
 * not being processed (no unfinished clip of the camera starts at their
 * segment's end): they are reported alone.
 *
 * @param db The database.
 * @param options Clock (epoch ms), hold time and gap tolerance (s).
 * @returns The expired tracks.
 */
export function expiredHeldTracks(
  db: DatabaseSync,
  options: { now: number; holdS: number; gapS: number },
): HeldTrack[] {
  const old = (cachedStatement(
    db,
    "SELECT * FROM held_tracks WHERE held_at <= ? ORDER BY held_at, event_key",
  ).all(options.now - options.holdS * 1000) as unknown as HeldRow[]).map(
    toHeld,
  );
  return old.filter((h) =>
    !unfinishedOfChain(db, h.chainKey).some((v) => {
      const s = clipSpan(v);
      return s !== null && isContiguous(h.endMs, s.startMs, options.gapS);
    })
  );
}
