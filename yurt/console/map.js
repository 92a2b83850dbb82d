// The location map: Leaflet (committed under vendor/, global L) over Natural Earth country outlines shipped with
// the service (world.json); no tile server, so it works with no internet. Staff place the post's point with a
// click, by dragging the marker, or from the keyboard (pan with the arrow keys, then "put the point at the map's
// centre"). A consular district is drawn as the labelled places of its subdivisions and their hull, dashed and
// marked approximate (GET /v1/staff/districts).
"use strict";

import { api, t } from "./core.js";

const L = window.L;
const map = { leaflet: null, ready: null, marker: null, districts: null, onPlace: null, world: null, alerts: null,
  worldData: null };

let element = null;

// One map for the page: its element moves into each post's location section, so no map is ever torn down while
// an animation of it runs (Leaflet's remove() during a pan or zoom throws).
export function mapElement() {
  if (!element) {
    element = document.createElement("div");
    element.id = "map";
    element.tabIndex = 0;
  }
  return element;
}

export async function attachMap(onPlace) {
  map.onPlace = onPlace;
  map.alerts?.clearLayers();
  if (map.ready) { await map.ready; map.leaflet.invalidateSize({ animate: false }); return; }
  map.ready = build();
  await map.ready;
}

async function build() {
  const leaflet = L.map(mapElement(), { worldCopyJump: true, minZoom: 1, maxZoom: 16, keyboard: true,
    attributionControl: true, zoomSnap: 0.5 }).setView([30, 20], 2);
  leaflet.attributionControl.setPrefix("Leaflet · Natural Earth");
  element.setAttribute("aria-label", t("mapLabel"));
  element.dataset.i18nLabel = "mapLabel";
  const world = await (await fetch("/staff/world.json")).json();
  map.worldData = world;
  map.world = L.geoJSON(world, { interactive: false,
    style: { color: "#8a8570", weight: 0.8, fillColor: "#f4f1e4", fillOpacity: 1 } }).addTo(leaflet);
  map.districts = L.layerGroup().addTo(leaflet);
  map.alerts = L.layerGroup().addTo(leaflet);
  map.marker = L.marker([0, 0], { draggable: true, keyboard: true, title: t("sLocation"), autoPan: true });
  map.marker.on("dragend", () => place(map.marker.getLatLng(), "drag"));
  leaflet.on("click", (e) => place(e.latlng, "click"));
  map.leaflet = leaflet; // only now: showPoint and the others wait for a map with its layers
  leaflet.invalidateSize({ animate: false });
}

// Six decimals (about 0.1 m) is finer than any source; longitudes wrap into [-180, 180].
function place(latlng, how) {
  if (!map.onPlace) return; // an alert's map places nothing
  const lat = Math.round(latlng.lat * 1e6) / 1e6;
  const lon = Math.round(latlng.wrap().lng * 1e6) / 1e6;
  showPoint(lat, lon, false);
  map.onPlace?.(lat, lon, how);
}

export function placeAtCentre() {
  if (map.leaflet) place(map.leaflet.getCenter(), "centre");
}

export function showPoint(lat, lon, recentre = true, zoom = null) {
  if (!map.leaflet) return;
  if (!Number.isFinite(lat) || !Number.isFinite(lon)) { map.marker.remove(); return; }
  map.marker.setLatLng([lat, lon]).addTo(map.leaflet);
  if (recentre) map.leaflet.setView([lat, lon], zoom ?? Math.max(map.leaflet.getZoom(), 9), { animate: false });
}

export function centreOnPoint() {
  if (map.leaflet?.hasLayer(map.marker)) map.leaflet.panTo(map.marker.getLatLng());
}

let districtsAsked = 0;

export async function showDistricts(codes) {
  const asked = ++districtsAsked; // an answer for a post no longer open is dropped
  if (!map.leaflet) return;
  map.districts.clearLayers();
  if (!codes.length) return;
  const r = await api("GET", "/v1/staff/districts?codes=" + encodeURIComponent(codes.join(",")));
  if (r.status !== 200 || asked !== districtsAsked) return;
  L.geoJSON(r.data, {
    interactive: false,
    style: (feature) => (feature.properties.kind === "places"
      ? { radius: 1.5, stroke: false, fillColor: "#00708a", fillOpacity: 0.6 }
      : { color: "#00708a", weight: 1.5, dashArray: "4 4", fillOpacity: 0.06 }),
    pointToLayer: (_, latlng) => L.circleMarker(latlng, { interactive: false }),
  }).addTo(map.districts);
}

// -- an alert's area ----------------------------------------------------------------------------------------------
// Natural Earth's English names differ from the browser's CLDR names for these codes.
const OUTLINE_NAMES = { US: "United States of America", CD: "Dem. Rep. Congo", CG: "Congo", CF: "Central African Rep.",
  BA: "Bosnia and Herz.", DO: "Dominican Rep.", SS: "S. Sudan", CZ: "Czechia", GQ: "Eq. Guinea", SZ: "eSwatini",
  MK: "Macedonia", CI: "Côte d'Ivoire", KP: "North Korea", KR: "South Korea", PS: "Palestine",
  EH: "W. Sahara", SB: "Solomon Is.", FK: "Falkland Is.", TL: "Timor-Leste", MM: "Myanmar" };

// The world outline of each country code, where the shipped outline has it (matched by its English name).
export function countryOutlines(codes) {
  const english = new Intl.DisplayNames(["en"], { type: "region" });
  const wanted = new Map(codes.map((code) => [OUTLINE_NAMES[code] || english.of(code), code]));
  const found = (map.worldData?.features || []).filter((f) => wanted.has(f.properties.name));
  return { features: found, missing: codes.filter((code) => !found.some(
    (f) => wanted.get(f.properties.name) === code)) };
}

// An alert on the map: its area (GeoJSON geometry), or its countries' outlines and its subdivisions as districts
// are drawn (labelled places and their hull). The map moves to what is drawn. Answers what could not be drawn.
export async function showAlertArea(area, countries = [], subdivisions = []) {
  if (!map.leaflet) return [];
  map.alerts.clearLayers();
  map.marker.remove();
  const style = { color: "#b00020", weight: 2, fillColor: "#b00020", fillOpacity: 0.18 };
  const outlines = countryOutlines(countries);
  const drawn = area ? [{ type: "Feature", geometry: area, properties: {} }] : outlines.features;
  let bounds = null;
  if (drawn.length) {
    const layer = L.geoJSON({ type: "FeatureCollection", features: drawn }, { interactive: false, style })
      .addTo(map.alerts);
    bounds = layer.getBounds();
  }
  await showDistricts(subdivisions);
  if (subdivisions.length) {
    map.districts.eachLayer((l) => {
      const b = l.getBounds();
      if (b.isValid()) bounds = bounds ? bounds.extend(b) : b;
    });
  }
  if (bounds?.isValid()) map.leaflet.fitBounds(bounds, { animate: false, maxZoom: 7, padding: [24, 24] });
  return outlines.missing;
}
