// cpms portal, Analytics: the charts draw exactly what GET /api/v1/analytics answers (asked for
// with the session cookie), with Chart.js (static/vendor, see README there).
"use strict";

(function () {
  var COLOURS = { sessions: "#0b57a4", energy: "#1b7a3a", duration: "#6b3fa0", histogram: "#a14a00" };

  function params(form) {
    var query = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (String(value).trim()) query.set(name, String(value).trim());
    });
    return query;
  }

  function bucketLabel(start, bucket, tz, lang, week) {
    var moment = new Date(start);
    if (bucket === "month") {
      return new Intl.DateTimeFormat(lang, { timeZone: tz, month: "long", year: "numeric" }).format(moment);
    }
    var date = new Intl.DateTimeFormat(lang, { timeZone: tz, dateStyle: "medium" }).format(moment);
    return bucket === "week" ? week + " " + date : date;
  }

  function histogramLabel(from, to) {
    function text(seconds) {
      if (seconds === 0) return "0";
      if (seconds % 3600 === 0) return seconds / 3600 + " h";
      return seconds / 60 + " min";
    }
    if (to === null) return "≥ " + text(from);
    return text(from) + "–" + text(to);
  }

  function number(lang, value, digits) {
    return new Intl.NumberFormat(lang, { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(value);
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    var s = Math.round(seconds), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    if (h) return h + " h " + String(m).padStart(2, "0") + " min";
    if (m) return m + " min";
    return s + " s";
  }

  function bar(id, labels, label, data, colour, counts) {
    var canvas = document.getElementById(id);
    var existing = Chart.getChart(canvas);
    if (existing) existing.destroy();
    return new Chart(canvas, {
      type: "bar",
      data: { labels: labels, datasets: [{ label: label, data: data, backgroundColor: colour }] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true, ticks: counts ? { precision: 0 } : {} } },
      },
    });
  }

  function draw(root, answer) {
    var lang = root.dataset.lang, d = root.dataset;
    var labels = answer.buckets.map(function (b) {
      return bucketLabel(b.start, answer.bucket, answer.tz, lang, d.labelWeek);
    });
    bar("chart-sessions", labels, d.labelSessions, answer.buckets.map(function (b) { return b.sessions; }), COLOURS.sessions, true);
    bar("chart-energy", labels, d.labelEnergy, answer.buckets.map(function (b) { return b.energy_wh / 1000; }), COLOURS.energy);
    bar("chart-duration", labels, d.labelDuration, answer.buckets.map(function (b) { return b.duration_s.total / 3600; }), COLOURS.duration);
    bar(
      "chart-histogram",
      answer.duration_histogram.map(function (h) { return histogramLabel(h.from_s, h.to_s); }),
      d.labelHistogram,
      answer.duration_histogram.map(function (h) { return h.sessions; }),
      COLOURS.histogram,
      true
    );

    var totals = root.querySelector("[data-analytics-totals]");
    totals.querySelector('[data-total="sessions"]').textContent = answer.totals.sessions;
    totals.querySelector('[data-total="completed"]').textContent = answer.totals.completed;
    totals.querySelector('[data-total="energy"]').textContent = number(lang, answer.totals.energy_wh / 1000, 2) + " kWh";
    totals.querySelector('[data-total="mean"]').textContent = duration(answer.totals.duration_s.mean);
    totals.hidden = false;

    var rows = root.querySelector("[data-analytics-rows]");
    rows.textContent = "";
    answer.buckets.forEach(function (b, i) {
      var row = rows.insertRow();
      var cells = [
        labels[i], b.sessions, b.completed, number(lang, b.energy_wh / 1000, 2),
        number(lang, b.duration_s.total / 3600, 2), duration(b.duration_s.mean),
      ];
      cells.forEach(function (value, column) {
        var cell = column === 0 ? document.createElement("th") : row.insertCell();
        if (column === 0) { cell.scope = "row"; row.appendChild(cell); } else { cell.className = "num"; }
        cell.textContent = value;
      });
    });
  }

  async function load(root, form) {
    var status = root.querySelector("[data-analytics-status]");
    status.textContent = root.dataset.loading;
    var url = root.dataset.api + "?" + params(form).toString();
    var response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    var body = await response.json().catch(function () { return null; });
    if (!response.ok) {
      var reason = body && body.error ? body.error.message : response.status + " " + response.statusText;
      // The analytics route never answers 404 itself: a 404 is a server that has no analytics yet.
      status.textContent = response.status === 404
        ? root.dataset.missing
        : root.dataset.failed.replace("%(reason)s", reason);
      window.cpmsAnalytics = { url: url, error: body };
      document.body.dataset.analytics = "failed";
      return;
    }
    draw(root, body);
    status.textContent = "";
    window.cpmsAnalytics = { url: url, answer: body };
    document.body.dataset.analytics = "drawn";
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("analytics");
    var form = document.getElementById("analytics-form");
    if (!root || !form || !window.Chart) return;
    if (!form.elements.tz.value) {
      form.elements.tz.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
    }
    load(root, form).catch(function (error) {
      root.querySelector("[data-analytics-status]").textContent = root.dataset.failed.replace("%(reason)s", error);
      document.body.dataset.analytics = "failed";
    });
  });
})();
