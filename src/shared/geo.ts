/**
 * Great-circle distance and bearing on a spherical Earth. Pure; a leaf.
 * The mean Earth radius 6,371,008.8 m is the IUGG value (Moritz 2000,
 * "Geodetic Reference System 1980"); the spherical model errs by at most
 * 0.5 % against WGS 84, far below a dashcam fix's own error over the
 * distances used here (metres to kilometres).
 *
 * @module
 */

/** A point on the Earth, WGS 84 degrees. */
export interface LatLon {
  /** Latitude, degrees north, -90..90. */
  lat: number;
  /** Longitude, degrees east, -180..180. */
  lon: number;
}

/** Mean Earth radius in metres (IUGG). */
export const EARTH_RADIUS_M = 6_371_008.8;

const RAD = Math.PI / 180;

/**
 * Haversine distance between two points.
 *
 * @example One degree of latitude is about 111.2 km
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(Math.round(haversineM({ lat: 0, lon: 0 }, { lat: 1, lon: 0 })), 111195);
 * ```
 * @param a The first point.
 * @param b The second point.
 * @returns Metres.
 */
export function haversineM(a: LatLon, b: LatLon): number {
  const { lat: lat1, lon: lon1 } = a;
  const { lat: lat2, lon: lon2 } = b;
  const dLat = (lat2 - lat1) * RAD;
  const dLon = (lon2 - lon1) * RAD;
  const h = Math.sin(dLat / 2) ** 2 +
    Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/**
 * Initial bearing from the first point to the second.
 *
 * @example Due east on the equator
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(bearingDeg({ lat: 0, lon: 0 }, { lat: 0, lon: 1 }), 90);
 * ```
 * @param a The first point.
 * @param b The second point.
 * @returns Degrees clockwise from true north, in [0, 360).
 */
export function bearingDeg(a: LatLon, b: LatLon): number {
  const { lat: lat1, lon: lon1 } = a;
  const { lat: lat2, lon: lon2 } = b;
  const p1 = lat1 * RAD;
  const p2 = lat2 * RAD;
  const dl = (lon2 - lon1) * RAD;
  const y = Math.sin(dl) * Math.cos(p2);
  const x = Math.cos(p1) * Math.sin(p2) -
    Math.sin(p1) * Math.cos(p2) * Math.cos(dl);
  const deg = Math.atan2(y, x) / RAD;
  return ((deg % 360) + 360) % 360;
}

/**
 * A latitude/longitude box that holds every point within `radiusM` of a
 * centre (for an index prefilter before the exact haversine test). Near a
 * pole or across the antimeridian the longitude range is widened to the
 * whole circle rather than split.
 *
 * @example 1 km around a point
 * ```ts
 * import assert from "node:assert/strict";
 * const box = boundingBox({ lat: 52, lon: 0 }, 1000);
 * assert.ok(box.minLat < 52 && box.maxLat > 52 && box.minLon < 0 && box.maxLon > 0);
 * ```
 * @param centre The centre.
 * @param radiusM Radius in metres, >= 0.
 * @returns The box, degrees.
 */
export function boundingBox(
  centre: LatLon,
  radiusM: number,
): { minLat: number; maxLat: number; minLon: number; maxLon: number } {
  const { lat, lon } = centre;
  const dLat = radiusM / EARTH_RADIUS_M / RAD;
  const minLat = lat - dLat;
  const maxLat = lat + dLat;
  const cos = Math.cos(Math.max(Math.abs(minLat), Math.abs(maxLat)) * RAD);
  if (maxLat >= 90 || minLat <= -90 || cos <= 1e-9) {
    return {
      minLat: Math.max(-90, minLat),
      maxLat: Math.min(90, maxLat),
      minLon: -180,
      maxLon: 180,
    };
  }
  const dLon = dLat / cos;
  if (lon - dLon < -180 || lon + dLon > 180 || dLon >= 180) {
    return { minLat, maxLat, minLon: -180, maxLon: 180 };
  }
  return { minLat, maxLat, minLon: lon - dLon, maxLon: lon + dLon };
}
