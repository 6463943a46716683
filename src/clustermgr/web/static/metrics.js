// clustermgr: charts of the monitoring's series (uPlot), read from the metrics API.
//
// A ".metrics" block has a window picker and ".metric-chart" figures; each figure
// says in data-* what it plots (series names, one host's or every host's, a unit,
// and how lines combine).  One read per block fetches every series its charts need,
// over the window picked (1 h ... 1 y, custom, or dragged on a chart); the server
// picks the resolution (raw points or roll-ups) and the step.  A step with nothing
// stored is null and shows as a gap.
"use strict";

(() => {
  const RESOLUTIONS = { raw: "raw points", "1m": "1-minute roll-ups", "1h": "1-hour roll-ups" };
  const COLOURS = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d"];
  // A relative window (the last N seconds) is read again this often.
  const REFRESH_MS = 30000;

  // Values as a person reads them, by the unit the catalog gives.
  function scaled(value, base, names) {
    let i = 0;
    let v = Math.abs(value);
    while (v >= base && i < names.length - 1) { v /= base; i += 1; }
    const shown = value / Math.pow(base, i);
    return (Math.abs(shown) >= 100 ? shown.toFixed(0) : Number(shown.toPrecision(3)).toString()) + names[i];
  }

  function number(value) {
    return scaled(value, 1000, ["", " k", " M", " G", " T"]);
  }

  function duration(value) {
    for (const [size, name] of [[86400, " d"], [3600, " h"], [60, " min"]]) {
      if (Math.abs(value) >= size) return Number((value / size).toPrecision(3)) + name;
    }
    return Number(value.toPrecision(3)) + " s";
  }

  function formatter(unit) {
    if (unit === "ratio") return (v) => Number((v * 100).toPrecision(3)) + " %";
    if (unit === "bytes") return (v) => scaled(v, 1024, [" B", " KiB", " MiB", " GiB", " TiB"]);
    if (unit === "bytes/s") return (v) => scaled(v, 1024, [" B/s", " KiB/s", " MiB/s", " GiB/s"]);
    if (unit === "s") return duration;
    if (unit) return (v) => number(v) + " " + unit;
    return number;
  }

  function latest(values) {
    for (let i = values.length - 1; i >= 0; i -= 1) if (values[i] !== null) return values[i];
    return null;
  }

  // The legend's value: the hovered step's, or the latest one while nothing is hovered.
  function shown(format) {
    return (u, v, sidx, idx) => {
      const value = idx === null || idx === undefined ? latest(u.data[sidx]) : v;
      return value === null || value === undefined ? "–" : format(value);
    };
  }

  // A series name as a legend reads it: memory_used_bytes -> memory used.
  function words(name) {
    return name.replace(/_(bytes|seconds)$/, "").replace(/_/g, " ");
  }

  // Tick steps of an axis: whole powers of two for bytes, whole minutes, hours and
  // days for durations; uPlot's own (1, 2, 5 times a power of ten) otherwise.
  const BINARY = Array.from({ length: 60 }, (_, i) => 2 ** i);
  const DURATIONS = [1, 5, 10, 15, 30, 60, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400, 172800, 604800, 2592000, 31536000];

  function increments(unit) {
    if (unit === "bytes" || unit === "bytes/s") return BINARY;
    if (unit === "s") return DURATIONS;
    return undefined;
  }

  // Room for the widest tick label of the y axis (uPlot asks again as they change).
  function axisSize(u, values) {
    const widest = Math.max(3, ...(values || []).map((v) => String(v).length));
    return Math.ceil(widest * 7.5) + 18;
  }

  // The steps of a series with no neighbour: a line needs two points, so these get dots
  // (where uPlot does not draw every point anyway).
  function lonely(u, sidx, show) {
    if (show) return null;
    const d = u.data[sidx];
    const found = [];
    for (let i = 0; i < d.length; i += 1) {
      if (d[i] !== null && (i === 0 || d[i - 1] === null) && (i === d.length - 1 || d[i + 1] === null)) found.push(i);
    }
    return found.length ? found : null;
  }

  function labelText(labels) {
    return Object.keys(labels).sort().map((k) => labels[k]).join(" ");
  }

  function sameLabels(a, b) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
  }

  // [t...] and the values of a series on that grid (null where nothing is stored).
  function valuesOn(times, series) {
    const at = new Map(series.points.map(([t, v]) => [t, v]));
    return times.map((t) => (at.has(t) ? at.get(t) : null));
  }

  function add(a, b) {
    return a.map((v, i) => (v === null || b[i] === null ? null : v + b[i]));
  }

  // The lines of one chart: {label, values} from the answer's series.
  function lines(figure, answer, times, manyHosts) {
    const d = figure.dataset;
    const names = d.series.split(",");
    const per = d.per ? d.per.split(",") : [];
    const [dropKey, dropValue] = (d.drop || "=").split("=");
    const mine = answer.series.filter((s) => !d.host || s.host === d.host);
    const drawn = mine.filter((s) => names.includes(s.name) && s.labels[dropKey] !== dropValue);
    let out = drawn.map((s) => {
      let values = valuesOn(times, s);
      if (per.length) {
        const parts = mine.filter((o) => per.includes(o.name) && o.host === s.host && sameLabels(o.labels, s.labels));
        const whole = parts.length === per.length
          ? parts.map((o) => valuesOn(times, o)).reduce(add)
          : times.map(() => null);
        values = values.map((v, i) => (v === null || !whole[i] ? null : v / whole[i]));
      }
      const label = [manyHosts ? s.host : "", names.length > 1 ? s.name : "", labelText(s.labels)];
      return { host: s.host, label: label.filter(Boolean).join(" ") || words(s.name), values, title: s.title, unit: s.unit };
    });
    if (d.total) {
      const byHost = new Map();
      for (const line of out) {
        const kept = byHost.get(line.host);
        byHost.set(line.host, kept ? { ...kept, values: add(kept.values, line.values) } : { ...line, label: manyHosts ? line.host : "total" });
      }
      out = [...byHost.values()];
    }
    return out;
  }

  function sizeOf(plot) {
    return { width: Math.max(plot.clientWidth, 200), height: 160 };
  }

  function draw(block, figure, answer, times) {
    const plot = figure.querySelector(".plot");
    const drawn = lines(figure, answer, times, !figure.dataset.host);
    const unit = figure.dataset.unit ?? (drawn[0] ? drawn[0].unit : "");
    const format = formatter(unit);
    const data = [times, ...drawn.map((l) => l.values)];
    const key = drawn.map((l) => l.label).join("\n");
    if (figure.uplot && figure.lineKey === key) {
      figure.uplot.setData(data);  // the same lines, newer points: no redraw from scratch
      return;
    }
    figure.lineKey = key;
    if (figure.uplot) { figure.uplot.destroy(); figure.uplot = null; }
    plot.textContent = "";
    figure.classList.toggle("empty", !drawn.length);
    if (!drawn.length) {
      const note = document.createElement("p");
      note.className = "hint no-data";
      note.textContent = "Nothing stored in this window.";
      plot.appendChild(note);
      return;
    }
    const caption = figure.querySelector("figcaption");
    if (caption.hasAttribute("data-untitled") && drawn[0].title) {
      caption.textContent = drawn[0].title;
      caption.removeAttribute("data-untitled");
    }
    const options = {
      ...sizeOf(plot),
      // Room on the left for the first time label (the date under it is the widest).
      padding: [8, 8, 0, 24],
      cursor: { drag: { x: true, y: false }, sync: { key: block.syncKey } },
      select: { show: true },
      scales: { x: { time: true }, y: { range: (u, min, max) => (min === null ? [0, 1] : [Math.min(0, min), max > 0 ? max * 1.05 : 1]) } },
      axes: [{}, { values: (u, splits) => splits.map(format), size: axisSize, incrs: increments(unit) }],
      series: [
        { label: "time", value: (u, t) => (t === null || t === undefined ? "latest" : new Date(t * 1000).toLocaleString()) },
        ...drawn.map((line, i) => ({
          label: line.label,
          stroke: COLOURS[i % COLOURS.length],
          width: 1.5,
          value: shown(format),
          spanGaps: false,
          points: { filter: lonely },
        })),
      ],
      hooks: {
        setSelect: [(u) => {
          if (u.select.width < 4) return;
          const from = Math.floor(u.posToVal(u.select.left, "x"));
          const to = Math.ceil(u.posToVal(u.select.left + u.select.width, "x"));
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          pick(block, { from, to });
        }],
      },
    };
    figure.uplot = new uPlot(options, data, plot);
  }

  function status(block, text, failed) {
    const line = block.querySelector(".metrics-status");
    line.textContent = text;
    line.classList.toggle("error", Boolean(failed));
  }

  function windowWords(answer) {
    const step = answer.step >= 3600 ? answer.step / 3600 + " h" : answer.step >= 60 ? Math.round(answer.step / 60) + " min" : answer.step + " s";
    const from = new Date(answer.from * 1000).toLocaleString();
    const to = new Date(answer.to * 1000).toLocaleString();
    return `${from} to ${to}: ${RESOLUTIONS[answer.resolution] || answer.resolution}, one point per ${step}.`;
  }

  function localInput(seconds) {
    const at = new Date(seconds * 1000);
    return new Date(at.getTime() - at.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  }

  async function load(block) {
    const figures = [...block.querySelectorAll(".metric-chart")];
    const names = new Set();
    for (const f of figures) {
      for (const n of [...f.dataset.series.split(","), ...(f.dataset.per ? f.dataset.per.split(",") : [])]) names.add(n);
    }
    const now = Math.floor(Date.now() / 1000);
    const chosen = block.window;
    const from = chosen.range ? now - chosen.range : chosen.from;
    const to = chosen.range ? now : chosen.to;
    const query = new URLSearchParams({ series: [...names].join(","), from: String(from), to: String(to) });
    if (block.dataset.host) query.set("host", block.dataset.host);
    block.querySelector(".metrics-json").href = block.dataset.source + "?" + query;
    const asked = (block.asked || 0) + 1;
    block.asked = asked;
    block.setAttribute("aria-busy", "true");
    let answer;
    try {
      const response = await fetch(block.dataset.source + "?" + query, { credentials: "same-origin", headers: { Accept: "application/json" } });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) {
        const why = response.status === 401 ? "sign in again to read the metrics" : body.message || response.statusText;
        throw new Error(why);
      }
      answer = body;
    } catch (error) {
      if (asked === block.asked) { status(block, "The metrics could not be read: " + error.message, true); block.removeAttribute("aria-busy"); }
      return;
    }
    if (asked !== block.asked) return;  // a newer read is on its way
    const times = [];
    for (let t = answer.from; t < answer.to; t += answer.step) times.push(t);
    for (const f of figures) draw(block, f, answer, times);
    const form = block.querySelector(".metrics-custom");
    form.elements.from.value = localInput(answer.from);
    form.elements.to.value = localInput(answer.to);
    block.dataset.resolution = answer.resolution;
    block.dataset.loaded = String(asked);
    status(block, windowWords(answer));
    block.removeAttribute("aria-busy");
  }

  // Show a window: {range: seconds} (the last ones, kept fresh) or {from, to}.
  function pick(block, chosen) {
    block.window = chosen;
    for (const button of block.querySelectorAll("button.range")) {
      button.setAttribute("aria-pressed", String(Number(button.dataset.range) === chosen.range));
    }
    load(block);
  }

  function setUp(block, index) {
    block.syncKey = "metrics-" + index;
    for (const button of block.querySelectorAll("button.range")) {
      button.addEventListener("click", () => pick(block, { range: Number(button.dataset.range) }));
    }
    block.querySelector(".metrics-custom").addEventListener("submit", (event) => {
      event.preventDefault();
      const form = event.target;
      const from = Math.floor(new Date(form.elements.from.value).getTime() / 1000);
      const to = Math.floor(new Date(form.elements.to.value).getTime() / 1000);
      if (!(to > from)) { status(block, "The end of the window must be after its start.", true); return; }
      pick(block, { from, to });
    });
    window.addEventListener("resize", () => {
      for (const f of block.querySelectorAll(".metric-chart")) {
        if (f.uplot) f.uplot.setSize(sizeOf(f.querySelector(".plot")));
      }
    });
    setInterval(() => {
      if (block.window.range && !document.hidden) load(block);
    }, REFRESH_MS);
    pick(block, { range: 3600 });
  }

  function start() {
    if (typeof uPlot === "undefined") return;
    document.querySelectorAll(".metrics").forEach(setUp);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
