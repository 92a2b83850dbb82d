// The location section: the map (map.js), pasted coordinates read by the server (POST /v1/staff/parse-point,
// geopy), and the latitude/longitude inputs the saved record takes its point from.
"use strict";

import { $, api, h, t, tr } from "./core.js";
import { clearError, editor, showError } from "./editor.js";
import { attachMap, centreOnPoint, mapElement, placeAtCentre, showDistricts, showPoint } from "./map.js";

export function locationTools() {
  const paste = h("input", { id: "paste-point", type: "text", autocomplete: "off", "data-i18n-label": "pastePoint",
    "aria-label": t("pastePoint"), "data-i18n-placeholder": "pastePoint", placeholder: t("pastePoint") });
  paste.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); usePasted(); } });
  return h("div", { class: "wide location" },
    mapElement(),
    tr("p", "districtsApprox", { class: "muted small" }),
    h("div", { class: "row" },
      tr("button", "placeAtCentre", { id: "place-at-centre", type: "button", class: "small", onclick: placeAtCentre }),
      tr("button", "centreOnPoint", { id: "centre-on-point", type: "button", class: "small", onclick: centreOnPoint })),
    h("div", { class: "row" }, paste,
      tr("button", "usePasted", { id: "use-pasted", type: "button", class: "small", onclick: usePasted })),
    h("p", { id: "point-status", role: "status", class: "small" }));
}

// -- the point ---------------------------------------------------------------------------------------------------
function setPoint(lat, lon) {
  $("f-geometry.coordinates.1").value = lat;
  $("f-geometry.coordinates.0").value = lon;
  $("point-status").textContent = t("pointPlaced", { lat, lon });
}

export function pointFromInputs() {
  showPoint(Number($("f-geometry.coordinates.1").value), Number($("f-geometry.coordinates.0").value));
}

async function usePasted() {
  const input = $("paste-point");
  clearError(input);
  const r = await api("POST", "/v1/staff/parse-point", { text: input.value });
  if (r.status !== 200) { showError(input, r.data?.errors?.text?.join("; ") || r.data?.detail, "paste"); return; }
  setPoint(r.data.lat, r.data.lon);
  showPoint(r.data.lat, r.data.lon, true, 15);
}

export async function mountMap() {
  const [lon, lat] = editor.feature.geometry.coordinates;
  const el = mapElement();
  el.dataset.i18nLabel = "mapLabel";
  el.setAttribute("aria-label", t("mapLabel"));
  document.querySelector("#form .location")?.prepend(el); // back from an alert's editor
  await attachMap((pLat, pLon) => setPoint(pLat, pLon));
  showPoint(lat, lon, true, editor.feature.properties.location_precision === "building" ? 13 : 6);
  await showDistricts(editor.feature.properties.districts || []);
}

