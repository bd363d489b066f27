// Helpline web widget loader: <script src="https://helpline.example/widget.js" data-inbox="..." async>.
// Defines window.Helpline (calls made before the widget is ready are queued) and loads the widget's
// modules from the same server. Nothing else is global; nothing is loaded from anywhere else.
(() => {
  if (window.Helpline?.version) return;
  var script = document.currentScript;
  if (!script?.src) return;
  var data = script.dataset;
  var base = new URL(script.src).origin;
  var queue = [];
  var api = { version: 1 };
  ['identify', 'open', 'close'].forEach((name) => {
    api[name] = (...args) => {
      queue.push([name, args]);
    };
  });
  window.Helpline = api;
  var config = {
    base: base,
    inbox: data.inbox || '',
    locale: data.locale || '',
    title: data.title || '',
    color: data.color || '',
    position: data.position === 'left' ? 'left' : 'right',
  };
  import(`${base}/widget/app.js`)
    .then((app) => {
      app.start(config, api, queue);
    })
    .catch((problem) => {
      console.error('Helpline widget did not load:', problem);
    });
})();
