/**
 * Searching the fleet's `vehicles`: plate patterns (`*`/`?` wildcards or a
 * substring) become an ILIKE the trigram index serves; a fuzzy plate becomes
 * the exact set of LIKE patterns within that many edits; time filters use
 * the `ts` index.
 *
 * @module
 */
import type { Box } from "../shared/mod.ts";
import type { PgSql } from "./pg_client.ts";
import { boundingBox, EARTH_RADIUS_M } from "../shared/mod.ts";
import { checkNear } from "./outbox.ts";
import { hasLocationColumn } from "./pg_schema.ts";
import {
  fuzzyLikePatterns,
  hasWildcard,
  normalizePlate,
  plateLikePattern,
} from "./plate_match.ts";

/** Filter of {@linkcode searchVehicles}. */
export interface VehicleSearch {
  /** Plate pattern: `*`/`?` wildcards (whole plate), else a substring. */
  plate?: string;
  /** With `plate` (no wildcards): plates within this many edits (1 or 2). @default {0} */
  fuzzy?: number;
  /** Only rows with `ts >=` this ISO time. */
  since?: string;
  /** Only rows with `ts <` this ISO time. */
  until?: string;
  /** Only rows from this device. */
  deviceId?: string;
  /**
   * Only rows within `radiusM` metres of the point: `ST_DWithin` on the
   * GiST-indexed `location` where PostGIS is there, else a lat/lon box
   * (index) and the haversine distance.
   */
  near?: { lat: number; lon: number; radiusM: number };
  /** Most rows returned, newest first. @default {100} */
  limit?: number;
}

/** One row of `vehicles`. */
export interface VehicleRecord {
  /** Row id. */
  id: number;
  /** Idempotency key (null for rows other tools wrote). */
  eventKey: string | null;
  /** Device that sent it (null for rows other tools wrote). */
  deviceId: string | null;
  /** Source clip id. */
  videoId: string;
  /** Track id, when known. */
  trackId: number | null;
  /** Frame index of the best reading. */
  frameIdx: number;
  /** Event time. */
  ts: Date;
  /** Plate text. */
  finalPlate: string;
  /** Confidence in 0..1. */
  plateConfidence: number;
  /** Vehicle box. */
  carBbox: Box;
  /** Plate box. */
  plateBbox: Box;
  /** Matched plate of interest, if any. */
  alertId: number | null;
  /** Insertion time. */
  createdAt: Date | null;
  /** Latitude, degrees, when the clip had GPS. */
  lat: number | null;
  /** Longitude, degrees. */
  lon: number | null;
  /** Speed, km/h. */
  speedKmh: number | null;
  /** Heading, degrees from north. */
  headingDeg: number | null;
  /** Which clock `ts` comes from. */
  timeSource: string | null;
}

interface Row {
  id: number;
  event_key: string | null;
  device_id: string | null;
  video_id: string;
  track_id: number | null;
  frame_idx: number;
  ts: Date;
  final_plate: string;
  plate_confidence: number;
  car_bbox: Box;
  plate_bbox: Box;
  alert_id: number | null;
  created_at: Date | null;
  lat: number | null;
  lon: number | null;
  speed_kmh: number | null;
  heading_deg: number | null;
  time_source: string | null;
}

/**
 * Searches `vehicles`, newest `ts` first.
 *
 * @example Plates starting with AB1 this week
 * ```ts ignore
 * const rows = await searchVehicles(sql, { plate: "AB1*", since: "2025-06-02T00:00:00Z" });
 * ```
 * @param sql Client of the fleet database.
 * @param filter Plate, fuzzy distance, time range, device, limit.
 * @returns Matching rows.
 * @throws {TypeError} When `fuzzy` is combined with a wildcard pattern.
 * @throws {RangeError} When `fuzzy` or `limit` is out of range.
 */
export async function searchVehicles(
  sql: PgSql,
  filter: VehicleSearch = {},
): Promise<VehicleRecord[]> {
  const { plate, fuzzy = 0, since, until, deviceId, near, limit = 100 } =
    filter;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(
      `Cannot search vehicles as 'limit' must be an integer >= 1: current value is ${limit}`,
    );
  }
  if (![0, 1, 2].includes(fuzzy)) {
    throw new RangeError(
      `Cannot search vehicles as 'fuzzy' must be 0, 1 or 2: current value is ${fuzzy}`,
    );
  }
  const conditions = [sql`true`];
  if (plate !== undefined) {
    if (fuzzy > 0) {
      if (hasWildcard(plate)) {
        throw new TypeError(
          `Cannot search vehicles as 'fuzzy' needs a plain plate, not a pattern: current value is ${
            JSON.stringify(plate)
          }`,
        );
      }
      // One ILIKE ANY over the exact pattern set: a scan, but a fast one
      // (~0.1 s per 500k rows here for 2 edits); a chain of OR-ed ILIKEs
      // measured 10-80x slower.
      const target = normalizePlate(plate);
      const patterns = fuzzyLikePatterns(target, fuzzy);
      conditions.push(
        sql`length(final_plate) BETWEEN ${target.length - fuzzy} AND ${
          target.length + fuzzy
        }`,
        sql`final_plate ILIKE ANY(${patterns}::text[])`,
      );
    } else {
      conditions.push(sql`final_plate ILIKE ${plateLikePattern(plate)}`);
    }
  }
  if (since !== undefined) conditions.push(sql`ts >= ${since}::timestamptz`);
  if (until !== undefined) conditions.push(sql`ts < ${until}::timestamptz`);
  if (deviceId !== undefined) conditions.push(sql`device_id = ${deviceId}`);
  if (near !== undefined) {
    checkNear(near, "search vehicles");
    if (await hasLocationColumn(sql)) {
      conditions.push(sql`ST_DWithin(location,
        ST_SetSRID(ST_MakePoint(${near.lon}::float8, ${near.lat}::float8), 4326)::geography,
        ${near.radiusM}::float8)`);
    } else {
      const box = boundingBox(near, near.radiusM);
      conditions.push(
        sql`lat BETWEEN ${box.minLat}::float8 AND ${box.maxLat}::float8`,
        sql`lon BETWEEN ${box.minLon}::float8 AND ${box.maxLon}::float8`,
        sql`2 * ${EARTH_RADIUS_M}::float8 * asin(least(1, sqrt(
          power(sin(radians(lat - ${near.lat}::float8) / 2), 2) +
          cos(radians(${near.lat}::float8)) * cos(radians(lat)) *
          power(sin(radians(lon - ${near.lon}::float8) / 2), 2)))) <= ${near.radiusM}::float8`,
      );
    }
  }
  const where = conditions.reduce((a, b) => sql`${a} AND ${b}`);
  const rows = await sql<Row[]>`
    SELECT id, event_key, device_id, video_id, track_id, frame_idx, ts,
      final_plate, plate_confidence, car_bbox, plate_bbox, alert_id, created_at,
      lat, lon, speed_kmh, heading_deg, time_source
    FROM vehicles
    WHERE ${where}
    ORDER BY ts DESC, id DESC
    LIMIT ${limit}`;
  return rows.map((r) => ({
    id: r.id,
    eventKey: r.event_key,
    deviceId: r.device_id,
    videoId: r.video_id,
    trackId: r.track_id,
    frameIdx: r.frame_idx,
    ts: r.ts,
    finalPlate: r.final_plate,
    plateConfidence: r.plate_confidence,
    carBbox: r.car_bbox,
    plateBbox: r.plate_bbox,
    alertId: r.alert_id,
    createdAt: r.created_at,
    lat: r.lat,
    lon: r.lon,
    speedKmh: r.speed_kmh,
    headingDeg: r.heading_deg,
    timeSource: r.time_source,
  }));
}
