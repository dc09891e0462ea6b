// cpms portal: progressive enhancement only; every page works without it.
// 1. Times are served in UTC; shown here in the browser's own zone and the page's language.
// 2. The sheet follows its Server-Sent Events: a charge point's new status replaces the old one.
"use strict";

(function () {
  var lang = document.documentElement.lang || "en";
  var format = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
  var short = new Intl.DateTimeFormat(lang, { dateStyle: "short", timeStyle: "short" });

  function localTime(element) {
    var value = element.getAttribute("datetime");
    var moment = new Date(value);
    if (isNaN(moment.getTime())) return;
    if (!element.title) element.title = element.textContent;
    element.textContent = (element.closest("table") ? short : format).format(moment);
  }

  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(localTime);
  }

  function followSheet(sheet) {
    var note = document.querySelector("[data-live-note]");
    var announcer = document.querySelector("[data-announcer]");
    var siteBadge = document.querySelector("[data-site-state]");
    var source = new EventSource(sheet.dataset.sheetEvents);

    source.addEventListener("open", function () {
      if (note) note.textContent = note.dataset.connected;
      document.body.dataset.live = "connected";
    });
    source.addEventListener("error", function () {
      if (note) note.textContent = note.dataset.paused;
      document.body.dataset.live = "paused";
    });
    source.addEventListener("charge-point", function (message) {
      var cp = JSON.parse(message.data);
      var tile = sheet.querySelector('[data-charge-point="' + CSS.escape(cp.ocpp_id + "/" + cp.connector_id) + '"]');
      if (!tile) return;
      var changed = tile.dataset.status !== cp.status;
      tile.className = tile.className.replace(/\bstatus-\S+/, "status-" + cp.status);
      tile.dataset.status = cp.status;
      tile.querySelector(".cp-status").textContent = cp.label;
      var since = tile.querySelector(".cp-since time");
      if (since) {
        since.setAttribute("datetime", cp.since);
        since.title = "";
        localTime(since);
      }
      var error = tile.querySelector(".cp-error");
      var faulty = cp.error_code && cp.error_code !== "NoError";
      error.hidden = !faulty;
      if (faulty) error.textContent = error.textContent.replace(/:.*$/, ": " + cp.error_code);
      if (changed && announcer) {
        announcer.textContent = sheet.dataset.announce
          .replace("%(station)s", cp.ocpp_id)
          .replace("%(number)s", cp.connector_id)
          .replace("%(status)s", cp.label);
      }
    });
    source.addEventListener("site", function (message) {
      var site = JSON.parse(message.data);
      if (!siteBadge) return;
      siteBadge.className = siteBadge.className.replace(/\bstate-\S+/, "state-" + site.state);
      siteBadge.dataset.siteState = site.state;
      siteBadge.textContent = site.label;
    });
    window.addEventListener("pagehide", function () { source.close(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    var sheet = document.querySelector("[data-sheet-events]");
    if (sheet && window.EventSource) followSheet(sheet);
  });
})();
