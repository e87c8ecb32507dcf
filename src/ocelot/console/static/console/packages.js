// The package build form: the fragment count and the waiting time per priority, live, and
// an upload progress bar. The page works without this file (the server computes the same
// estimate on request, and the form posts normally); no inline script (the CSP forbids it).
(function () {
  "use strict";
  var UNITS = { "": 1, K: 1024, M: 1024 * 1024, G: 1024 * 1024 * 1024 };

  // ocelot.deployment.download_estimate.estimate_seconds, line for line.
  function estimateSeconds(fragments, priority, lat) {
    var length = lat.periodLength, steps = fragments + 1, perPeriod, between, cycleWait;
    if (priority === 0) {
      perPeriod = length; between = 1; cycleWait = 0;
    } else {
      if (priority > length || length < 1) { return null; }
      perPeriod = Math.floor(length / priority); between = priority; cycleWait = lat.cycleLatency;
    }
    var fullPeriods = Math.floor((steps - 1) / perPeriod);
    var left = ((steps - 1) % perPeriod) + 1;
    var periodSeconds = perPeriod * lat.fragLatency + length * cycleWait + lat.periodLatency;
    var beforeLast = (left - 1) * lat.fragLatency + (left * between - 1) * cycleWait;
    return fullPeriods * periodSeconds + beforeLast;
  }

  function pad(value) { return (value < 10 ? "0" : "") + value; }

  function duration(seconds, never) {
    if (seconds === null) { return never; }
    var hours = Math.floor(seconds / 3600), minutes = Math.floor((seconds % 3600) / 60), secs = seconds % 60;
    return hours ? hours + "h" + pad(minutes) + "m" + pad(secs) + "s" : minutes + "m" + pad(secs) + "s";
  }

  function parseSize(text) {
    var match = /^\s*(\d+)\s*([KMG]?)(?:i?B)?\s*$/i.exec(text || "");
    return match ? parseInt(match[1], 10) * UNITS[match[2].toUpperCase()] : null;
  }

  // The count the build will use (ocelot.deployment.fragments.fragment_sizes), or null.
  function fragmentCount(form, box) {
    var mode = form.querySelector('input[name="fragment_mode"]:checked');
    var fileInput = form.querySelector("[data-estimate-file]");
    var file = fileInput && fileInput.files && fileInput.files[0];
    if (!mode || mode.value === "count") {
      var count = parseInt(form.querySelector("[data-estimate-count]").value, 10);
      return count > 0 ? count : 1;
    }
    var size = parseSize(form.querySelector("[data-estimate-size]").value) || parseInt(box.dataset.defaultSize, 10);
    if (!file) { return null; }
    if (size < 1) { return null; }
    return Math.max(1, Math.ceil(file.size / Math.min(size, file.size || 1)));
  }

  function refresh(form) {
    var box = form.querySelector(".estimate");
    if (!box) { return; }
    var lat = {
      fragLatency: parseInt(box.dataset.fragLatency, 10),
      cycleLatency: parseInt(box.dataset.cycleLatency, 10),
      periodLatency: parseInt(box.dataset.periodLatency, 10),
      periodLength: parseInt(box.dataset.periodLength, 10)
    };
    var count = fragmentCount(form, box);
    var shown = box.querySelector("[data-estimate-count-value]");
    if (count === null) { shown.textContent = "?"; return; }
    shown.textContent = String(count);
    box.querySelectorAll("tr[data-priority]").forEach(function (row) {
      var seconds = estimateSeconds(count, parseInt(row.dataset.priority, 10), lat);
      row.querySelector("[data-estimate-cell]").textContent = duration(seconds, box.dataset.never);
    });
  }

  function upload(form) {
    var bar = form.querySelector("[data-upload-bar]");
    var text = form.querySelector("[data-upload-text]");
    // Not form.action: the form has a field named "action", which shadows the property.
    var target = new URL(form.getAttribute("action"), document.baseURI).href;
    var request = new XMLHttpRequest();
    request.open("POST", target);
    request.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    request.upload.addEventListener("progress", function (event) {
      if (!event.lengthComputable) { return; }
      var percent = Math.floor(100 * event.loaded / event.total);
      bar.value = percent;
      text.textContent = percent + "% (" + Math.floor(event.loaded / 1048576) + " / " + Math.floor(event.total / 1048576) + " MiB)";
    });
    request.addEventListener("load", function () {
      if (request.status === 200 && /json/.test(request.getResponseHeader("Content-Type") || "")) {
        window.location.assign(JSON.parse(request.responseText).location);  // built: its page
        return;
      }
      // Refused: show the page the server answered (the form with its message).
      var page = new DOMParser().parseFromString(request.responseText, "text/html");
      document.replaceChild(document.adoptNode(page.documentElement), document.documentElement);
      refreshAll();
    });
    request.addEventListener("error", function () {
      bar.hidden = true;
      text.textContent = form.dataset.uploadFailed || "The upload failed.";
    });
    bar.hidden = false; text.hidden = false; bar.value = 0;
    form.querySelectorAll('button[type="submit"]').forEach(function (button) { button.disabled = true; });
    request.send(new FormData(form));
  }

  function refreshAll() {
    document.querySelectorAll("form[data-estimate]").forEach(function (form) {
      form.querySelectorAll(".no-script-only").forEach(function (item) { item.remove(); });
      refresh(form);
    });
  }

  document.addEventListener("input", function (event) {
    var form = event.target.form;
    if (form && form.matches("[data-estimate]")) { refresh(form); }
  });
  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (form && form.matches("[data-estimate]")) { refresh(form); }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("[data-upload-progress]") || !window.FormData || !window.DOMParser) { return; }
    event.preventDefault();
    upload(form);
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", refreshAll);
  } else {
    refreshAll();
  }
}());
