// Yurt Geo staff console: plain DOM and ES modules, same-origin API calls only (see the CSP); Leaflet for the map.
// Sign-in with a pasted staff token (kept in the tab's sessionStorage), who is signed in and a warning before the
// token expires; the work list, the editor with its history, and the reports.
"use strict";

import { alertEditor, loadAlert, reloadAlert, saveAlert } from "./alert_form.js";
import { alertHistory, loadAlertHistory } from "./alert_history.js";
import { alerts, loadAlerts, renderAlerts, showPostAlerts } from "./alerts.js";
import { $, api, localTime, session, setLanguage, t } from "./core.js";
import { editor, load, mountMap, save, takeTheirs } from "./editor.js";
import { history, loadHistory } from "./history.js";
import { loadWork, renderFilters, renderList, wireList, work } from "./list.js";
import { loadReports, reports } from "./reports.js";

const WARN_BEFORE_MS = 10 * 60 * 1000;
let expiryTimer = null;

// -- sign in ----------------------------------------------------------------------------------------------------
function showSignIn(message) {
  $("app").hidden = true;
  $("who").hidden = true;
  $("sign-out").hidden = true;
  $("expiry-warning").hidden = true;
  $("sign-in").hidden = false;
  $("sign-in-error").textContent = message || "";
  clearInterval(expiryTimer);
}

async function signIn() {
  session.token = $("token").value.trim() || session.token;
  if (!session.token) return;
  const me = await api("GET", "/v1/staff/me");
  if (me.status !== 200) {
    sessionStorage.removeItem("yurt.token");
    showSignIn(me.status === 403 ? `${t("needStaff")} (${me.data?.detail || ""})` : me.data?.detail || "sign-in failed");
    return;
  }
  session.me = me.data;
  sessionStorage.setItem("yurt.token", session.token);
  $("token").value = "";
  $("sign-in").hidden = true;
  $("app").hidden = false;
  $("sign-out").hidden = false;
  $("who").hidden = false;
  showWho();
  expiryTimer = setInterval(checkExpiry, 15_000);
  checkExpiry();
  await Promise.all([loadWork(), loadReports(), loadAlerts()]);
}

function showWho() {
  if (!session.me) return;
  const until = session.me.expires_at ? localTime(session.me.expires_at) : "—";
  $("who").textContent = t("signedInAs", { sub: session.me.sub, scopes: session.me.scopes.join(" "), until });
}

function checkExpiry() {
  const left = session.me?.expires_at ? Date.parse(session.me.expires_at) - Date.now() : Infinity;
  const warning = $("expiry-warning");
  if (left <= 0) {
    expire(t("expired"));
  } else if (left < WARN_BEFORE_MS) {
    warning.textContent = t("expiresSoon", { n: Math.max(1, Math.ceil(left / 60_000)) });
    warning.hidden = false;
  } else {
    warning.hidden = true;
  }
}

function expire(message) {
  sessionStorage.removeItem("yurt.token");
  session.token = null;
  session.me = null;
  showSignIn(message || t("expired"));
}

function signOut() {
  sessionStorage.removeItem("yurt.token");
  location.reload();
}

// -- tabs and the list/editor views ----------------------------------------------------------------------------
function selectTab(name) {
  const from = document.querySelector('[role="tab"][aria-selected="true"]')?.id;
  for (const tab of ["posts", "reports", "alerts"]) {
    $(`tab-${tab}`).setAttribute("aria-selected", String(tab === name));
    $(`${tab}-panel`).hidden = tab !== name;
  }
  // The one map follows the editor in view: back to the post's location when leaving an alert.
  if (name === "posts" && from === "tab-alerts" && editor.id) mountMap();
}

async function openMission(id) {
  const r = await api("GET", `/v1/missions/${encodeURIComponent(id)}`);
  if (r.status !== 200) { $("status").textContent = r.data?.detail || String(r.status); return; }
  selectTab("posts");
  editor.id = id;
  work.openId = id;
  $("status").textContent = "";
  $("history-status").textContent = "";
  $("editor").hidden = false;
  document.body.classList.add("editing");
  load(r.data, r.etag);
  renderList();
  $("editor-title").focus();
  await Promise.all([mountMap(), loadHistory(), showPostAlerts(r.data)]);
}

function closeEditor() {
  $("editor").hidden = true;
  document.body.classList.remove("editing");
  const button = document.querySelector(`#missions [data-id="${CSS.escape(work.openId || "")}"]`);
  work.openId = null;
  editor.id = null;
  renderList();
  (button ? document.querySelector(`#missions [data-id="${CSS.escape(button.dataset.id)}"]`) : $("search"))?.focus();
}

async function openAlert(id) {
  const r = id ? await api("GET", `/v1/alerts/${encodeURIComponent(id)}`) : { status: 200, data: {}, etag: null };
  if (r.status !== 200) { $("alerts-summary").textContent = r.data?.detail || String(r.status); return; }
  selectTab("alerts");
  alerts.openId = id;
  $("alert-status").textContent = "";
  $("alert-editor").hidden = false;
  document.body.classList.add("editing-alert");
  renderAlerts();
  $("alert-editor-title").focus();
  $("alert-history-status").textContent = "";
  await Promise.all([loadAlert(r.data, r.etag), loadAlertHistory()]);
}

function closeAlert() {
  $("alert-editor").hidden = true;
  document.body.classList.remove("editing-alert");
  const id = alerts.openId;
  alerts.openId = null;
  alertEditor.id = null;
  renderAlerts();
  (document.querySelector(`#alert-list [data-id="${CSS.escape(id || "")}"]`) || $("new-alert")).focus();
}

// -- wiring -----------------------------------------------------------------------------------------------------
work.onOpen = openMission;
reports.onOpenPost = openMission;
editor.onSaved = async () => { await Promise.all([loadWork(), loadHistory(), showPostAlerts(editor.feature)]); };
history.onUndone = async (entry, response) => {
  if (response.status === 204) { await loadWork(); closeEditor(); return; }
  const id = editor.id;
  await loadWork();
  await openMission(id);
  $("history-status").textContent = t("undone");
};
alerts.onOpen = openAlert;
alertEditor.onSaved = async (id) => {
  alerts.openId = id;
  $("alert-history-status").textContent = "";
  await Promise.all([loadAlerts(), loadAlertHistory()]);
};
alertHistory.onUndone = async (doc, etag) => { await loadAlert(doc, etag); await alertEditor.onSaved(doc.id); };
alertEditor.onDeleted = async () => { await loadAlerts(); closeAlert(); };
session.onExpired = (detail) => { if (session.me) expire(`${t("expired")} (${detail || ""})`); };

$("lang").value = session.lang;
$("lang").addEventListener("change", () => {
  setLanguage($("lang").value);
  showWho();
  checkExpiry();
  if (session.me) {
    renderFilters(); renderList(); if (editor.id) loadHistory(); loadReports(); renderAlerts();
  }
});
$("sign-in-button").addEventListener("click", signIn);
$("token").addEventListener("keydown", (e) => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); signIn(); } });
$("sign-out").addEventListener("click", signOut);
$("tab-posts").addEventListener("click", () => selectTab("posts"));
$("tab-reports").addEventListener("click", () => selectTab("reports"));
$("tab-alerts").addEventListener("click", () => selectTab("alerts"));
$("new-alert").addEventListener("click", () => openAlert(null));
$("back-to-alerts").addEventListener("click", closeAlert);
$("alert-form").addEventListener("submit", saveAlert);
$("alert-reload").addEventListener("click", async () => { await reloadAlert(); await loadAlertHistory(); });
$("back-to-list").addEventListener("click", closeEditor);
$("form").addEventListener("submit", save);
$("take-theirs").addEventListener("click", takeTheirs);
wireList();
setLanguage(session.lang);
if (session.token) signIn(); else showSignIn();
