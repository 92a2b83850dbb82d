// The location map: Leaflet (committed under vendor/, global L) over Natural Earth country outlines shipped with
// the service (world.json); no tile server, so it works with no internet. Staff place the post's point with a
// click, by dragging the marker, or from the keyboard (pan with the arrow keys, then "put the point at the map's
// centre"). A consular district is drawn as the labelled places of its subdivisions and their hull, dashed and
// marked approximate (GET /v1/staff/districts).
"use strict";

import { api, t } from "./core.js";

const L = window.L;
const map = { leaflet: null, marker: null, districts: null, onPlace: null, world: null };

let worldData = null; // fetched once per page

export async function createMap(element, onPlace) {
  map.onPlace = onPlace;
  map.leaflet?.remove();
  map.leaflet = L.map(element, { worldCopyJump: true, minZoom: 1, maxZoom: 16, keyboard: true,
    attributionControl: true, zoomSnap: 0.5 }).setView([30, 20], 2);
  map.leaflet.attributionControl.setPrefix("Leaflet · Natural Earth");
  map.leaflet.getContainer().setAttribute("aria-label", t("mapLabel"));
  map.leaflet.getContainer().dataset.i18nLabel = "mapLabel";
  worldData = worldData || await (await fetch("/staff/world.json")).json();
  map.world = L.geoJSON(worldData, { interactive: false,
    style: { color: "#8a8570", weight: 0.8, fillColor: "#f4f1e4", fillOpacity: 1 } }).addTo(map.leaflet);
  map.districts = L.layerGroup().addTo(map.leaflet);
  map.marker = L.marker([0, 0], { draggable: true, keyboard: true, title: t("sLocation"), autoPan: true });
  map.marker.on("dragend", () => place(map.marker.getLatLng(), "drag"));
  map.leaflet.on("click", (e) => place(e.latlng, "click"));
}

// Six decimals (about 0.1 m) is finer than any source; longitudes wrap into [-180, 180].
function place(latlng, how) {
  const lat = Math.round(latlng.lat * 1e6) / 1e6;
  const lon = Math.round(latlng.wrap().lng * 1e6) / 1e6;
  showPoint(lat, lon, false);
  map.onPlace?.(lat, lon, how);
}

export function placeAtCentre() {
  place(map.leaflet.getCenter(), "centre");
}

export function showPoint(lat, lon, recentre = true, zoom = null) {
  if (!map.leaflet) return;
  if (!Number.isFinite(lat) || !Number.isFinite(lon)) { map.marker.remove(); return; }
  map.marker.setLatLng([lat, lon]).addTo(map.leaflet);
  if (recentre) map.leaflet.setView([lat, lon], zoom ?? Math.max(map.leaflet.getZoom(), 9));
}

export function centreOnPoint() {
  if (map.marker && map.leaflet.hasLayer(map.marker)) map.leaflet.panTo(map.marker.getLatLng());
}

export function refreshSize() {
  map.leaflet?.invalidateSize();
}

export async function showDistricts(codes) {
  map.districts.clearLayers();
  if (!codes.length) return;
  const r = await api("GET", "/v1/staff/districts?codes=" + encodeURIComponent(codes.join(",")));
  if (r.status !== 200) return;
  L.geoJSON(r.data, {
    interactive: false,
    style: (feature) => (feature.properties.kind === "places"
      ? { radius: 1.5, stroke: false, fillColor: "#00708a", fillOpacity: 0.6 }
      : { color: "#00708a", weight: 1.5, dashArray: "4 4", fillOpacity: 0.06 }),
    pointToLayer: (_, latlng) => L.circleMarker(latlng, { interactive: false }),
  }).addTo(map.districts);
}
