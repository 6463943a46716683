// clustermgr: CSRF header for htmx requests, focus on errors, live job events (SSE)
// and their progress.
"use strict";

document.addEventListener("htmx:configRequest", (event) => {
  const token = document.body.dataset.csrf;
  if (token) event.detail.headers["X-CSRF-Token"] = token;
});

// The class an event line gets: the step's outcome, or a check's verdict.
// Mirrors the event_item macro in templates/macros.html.
function eventClass(event) {
  if (event.outcome) return "outcome-" + event.outcome.replace(" ", "-");
  if (event.kind === "check") return "check-" + event.message.split(":")[0];
  return "";
}

function eventItem(event) {
  const item = document.createElement("li");
  item.dataset.seq = event.seq;
  item.className = eventClass(event);
  const time = document.createElement("time");
  time.dateTime = event.at;
  time.textContent = (event.at || "").slice(11, 19);
  item.appendChild(time);
  item.appendChild(document.createTextNode(" " + (event.host ? event.host + ": " : "") + event.message));
  return item;
}

// Steps run of steps planned, over every plan of the job: each plan's start adds its
// steps, each counted step's end adds one.  Mirrors present.progress on the server.
function countProgress(event) {
  const box = document.getElementById("job-progress");
  if (!box || event.planned === null || event.planned === undefined) return;
  let done = Number(box.dataset.done), planned = Number(box.dataset.planned);
  if (event.kind === "plan_started") planned += event.planned;
  else if (event.kind === "step_finished") done += 1;
  else return;
  box.dataset.done = done;
  box.dataset.planned = planned;
  const bar = box.querySelector("progress");
  if (bar) { bar.max = planned; bar.value = done; }
  box.querySelector(".progress-words").textContent =
    done + " of " + planned + " step" + (planned === 1 ? "" : "s") + " done";
  box.hidden = false;
}

function jobFinished(job) {
  const done = document.getElementById("job-done");
  const state = document.getElementById("job-state");
  if (state) { state.textContent = job.state; state.className = "state state-" + job.state; }
  if (done) {
    done.hidden = false;
    done.className = "done-marker state-" + job.state;
    done.textContent = "Finished: " + job.state + ".";
    const summary = done.dataset.summary;
    if (summary && window.htmx) {
      // The outcome tables, the apply form and "Run again": rendered by the server.
      htmx.ajax("GET", summary, { target: "#job-summary", swap: "outerHTML" }).then(() => {
        document.dispatchEvent(new CustomEvent("job:summary", { detail: job }));
      });
    }
  }
  document.dispatchEvent(new CustomEvent("job:done", { detail: job }));
}

function followJob(list) {
  const source = new EventSource(list.dataset.stream);
  const empty = document.getElementById("no-events");
  source.addEventListener("step", (message) => {
    const event = JSON.parse(message.data);
    if (list.querySelector('li[data-seq="' + event.seq + '"]')) return;
    if (empty) empty.remove();
    list.appendChild(eventItem(event));
    countProgress(event);
    list.scrollTop = list.scrollHeight;
  });
  source.addEventListener("done", (message) => {
    source.close();
    jobFinished(JSON.parse(message.data));
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const focus = document.querySelector("[data-focus]");
  if (focus) focus.focus();
  document.querySelectorAll("ol.events[data-stream]").forEach(followJob);
});
