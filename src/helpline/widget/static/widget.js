// Helpline web widget loader: <script src="https://helpline.example/widget.js" data-inbox="..." async>.
// Defines window.Helpline (calls made before the widget is ready are queued) and loads the widget's
// modules from the same server. Nothing else is global; nothing is loaded from anywhere else.
(function () {
  "use strict";
  if (window.Helpline && window.Helpline.version) return;
  var script = document.currentScript;
  if (!script || !script.src) return;
  var data = script.dataset;
  var base = new URL(script.src).origin;
  var queue = [];
  var api = { version: 1 };
  ["identify", "open", "close"].forEach(function (name) {
    api[name] = function () { queue.push([name, Array.prototype.slice.call(arguments)]); };
  });
  window.Helpline = api;
  var config = {
    base: base,
    inbox: data.inbox || "",
    locale: data.locale || "",
    title: data.title || "",
    color: data.color || "",
    position: data.position === "left" ? "left" : "right",
  };
  import(base + "/widget/app.js")
    .then(function (app) { app.start(config, api, queue); })
    .catch(function (problem) { console.error("Helpline widget did not load:", problem); });
})();
