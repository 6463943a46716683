// clustermgr: the logs page. The histogram of matching records (uPlot bars, the counts
// the server rendered in data-bars; dragging across it searches that stretch), and
// the live tail: Server-Sent Events of the records stored from now on that match the
// search, paused and resumed after the last record shown, at most data-cap lines kept.
"use strict";

(() => {
  // Times as the page shows them: UTC, to the second.
  function utc(seconds) {
    return new Date(seconds * 1000).toISOString().slice(0, 19).replace("T", " ");
  }

  function isoSeconds(seconds) {
    return new Date(seconds * 1000).toISOString().slice(0, 19) + "Z";
  }

  function histogram(box) {
    const bars = JSON.parse(box.dataset.bars || "[]");
    if (!bars.length || typeof uPlot === "undefined") return;
    const times = bars.map((b) => b[0]);
    const counts = bars.map((b) => b[1]);
    const step = times.length > 1 ? times[1] - times[0] : 60;
    // The x scale spans the whole range: each bar sits over its own span.
    // An empty span draws no bar (a zero would draw a line along the axis).
    const data = [times.map((t) => t + step / 2), counts.map((n) => (n ? n : null))];
    const long = times[times.length - 1] + step - times[0] > 86400;
    // Tick labels in UTC, 24-hour: the day too when the range spans more than one.
    const tick = (u, splits) => splits.map((t) => (long ? utc(t).slice(5, 16) : utc(t).slice(11, 16)));
    const size = () => ({ width: Math.max(box.clientWidth, 300), height: 140 });
    const options = {
      ...size(),
      padding: [8, 12, 0, 8],
      legend: { show: false },
      cursor: { drag: { x: true, y: false }, points: { show: false } },
      select: { show: true },
      scales: {
        x: { time: true, range: () => [times[0], times[times.length - 1] + step] },
        y: { range: (u, min, max) => [0, Math.max(1, max || 0) * 1.1] },
      },
      axes: [
        { space: long ? 110 : 70, values: tick },
        { size: 48, values: (u, splits) => splits.map((v) => (Number.isInteger(v) ? String(v) : "")) },
      ],
      series: [
        {},
        {
          label: "records",
          fill: "rgba(31, 95, 174, .55)",
          stroke: "#1f5fae",
          width: 1,
          paths: uPlot.paths.bars({ size: [0.9, 60], align: 0 }),
          points: { show: false },
        },
      ],
      hooks: {
        setSelect: [(u) => {
          if (u.select.width < 4) return;
          const from = Math.floor(u.posToVal(u.select.left, "x"));
          const to = Math.ceil(u.posToVal(u.select.left + u.select.width, "x"));
          const url = new URL(window.location.href);
          url.searchParams.set("from", isoSeconds(from));
          url.searchParams.set("to", isoSeconds(to));
          url.searchParams.delete("before");
          window.location.assign(url.toString());
        }],
      },
    };
    box.uplot = new uPlot(options, data, box);
    box.dataset.drawn = String(counts.reduce((a, b) => a + b, 0));
    window.addEventListener("resize", () => box.uplot.setSize(size()));
  }

  function cell(text, className) {
    const td = document.createElement("td");
    if (className) td.className = className;
    if (text !== null) td.textContent = text;
    return td;
  }

  // One record as a row of the live table; the hits marked from the server's parts.
  function row(record) {
    const tr = document.createElement("tr");
    tr.dataset.id = record.id;
    const when = cell(null, "log-time");
    const time = document.createElement("time");
    time.dateTime = record.at;
    time.textContent = utc(Date.parse(record.at) / 1000);
    when.appendChild(time);
    tr.appendChild(when);
    tr.appendChild(cell(record.host));
    tr.appendChild(cell(record.source));
    const level = cell(null);
    const badge = document.createElement("span");
    if (record.level) {
      badge.className = "level level-" + record.level;
      badge.textContent = record.level;
    } else {
      badge.className = "hint";
      badge.textContent = "–";
    }
    level.appendChild(badge);
    tr.appendChild(level);
    const text = cell(null, "log-text");
    const pre = document.createElement("pre");
    pre.className = "log-message";
    for (const [part, found] of record.parts) {
      if (found) {
        const mark = document.createElement("mark");
        mark.textContent = part;
        pre.appendChild(mark);
      } else {
        pre.appendChild(document.createTextNode(part));
      }
    }
    text.appendChild(pre);
    tr.appendChild(text);
    return tr;
  }

  function live(section) {
    const button = section.querySelector(".live-toggle");
    const status = section.querySelector(".live-status");
    const box = section.querySelector(".live-box");
    const body = section.querySelector(".live-table tbody");
    const cap = Number(section.dataset.cap) || 500;
    let source = null;
    // The id the next stream goes on after (null: from the newest stored record).
    let after = null;

    function say(text, failed) {
      status.textContent = text;
      status.classList.toggle("error", Boolean(failed));
    }

    function shown() {
      const n = body.rows.length;
      return n + " line" + (n === 1 ? "" : "s") + (n >= cap ? " (the newest " + cap + ")" : "");
    }

    function add(record) {
      if (body.querySelector('tr[data-id="' + record.id + '"]')) return;
      const follow = box.scrollTop + box.clientHeight >= box.scrollHeight - 8;
      body.appendChild(row(record));
      while (body.rows.length > cap) body.deleteRow(0);
      if (follow) box.scrollTop = box.scrollHeight;
    }

    function start() {
      const url = new URL(section.dataset.tail, window.location.href);
      if (after !== null) url.searchParams.set("after", String(after));
      source = new EventSource(url.toString());
      button.setAttribute("aria-pressed", "true");
      section.dataset.state = "connecting";
      box.hidden = false;
      say("Connecting…");
      source.addEventListener("ready", (message) => {
        const ready = JSON.parse(message.data);
        if (after === null) after = ready.after;
        section.dataset.state = "live";
        say("Following: new records show as they are stored. " + shown() + ".");
      });
      source.addEventListener("record", (message) => {
        const record = JSON.parse(message.data);
        add(record);
        after = Math.max(after || 0, record.id);
        section.dataset.last = String(after);
        say("Following: new records show as they are stored. " + shown() + ".");
      });
      source.addEventListener("error", () => {
        if (source && source.readyState === EventSource.CLOSED) {
          stop();
          say("The live tail stopped (signed out, or too many streams open?). Press Live to try again.", true);
        } else {
          say("Reconnecting…");
        }
      });
    }

    function stop() {
      if (source) source.close();
      source = null;
      button.setAttribute("aria-pressed", "false");
      section.dataset.state = "paused";
    }

    button.addEventListener("click", () => {
      if (source) {
        stop();
        say("Paused: " + shown() + ". Press Live to go on after the last one; nothing stored meanwhile is missed.");
      } else {
        start();
      }
    });
  }

  // "show context" loads the lines around a hit once (htmx, a row after the hit's);
  // after that it hides and shows them again.
  function contextToggle() {
    document.addEventListener("htmx:afterRequest", (event) => {
      const link = event.detail.elt;
      if (!event.detail.successful || !link.classList || !link.classList.contains("show-context")) return;
      link.dataset.open = "true";
      link.textContent = "hide context";
      link.setAttribute("aria-expanded", "true");
    });
    document.addEventListener("click", (event) => {
      const link = event.target.closest ? event.target.closest("a.show-context[data-open]") : null;
      if (!link) return;
      event.preventDefault();
      const next = link.closest("tr").nextElementSibling;
      if (!next || !next.classList.contains("context-row")) return;
      const open = next.hidden;
      next.hidden = !open;
      link.dataset.open = String(open);
      link.textContent = open ? "hide context" : "show context";
      link.setAttribute("aria-expanded", String(open));
    });
  }

  function begin() {
    contextToggle();
    document.querySelectorAll(".logs-histogram").forEach(histogram);
    document.querySelectorAll(".logs-live[data-tail]").forEach(live);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", begin);
  else begin();
})();
