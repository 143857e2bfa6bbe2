/* Inside the web form's frame: tell the embedding page how tall the form is (embed.js listens). */
(function () {
  "use strict";
  if (window.parent === window) { return; }
  function send() {
    var key = document.body.getAttribute("data-form-key") || "";
    window.parent.postMessage({ type: "leadcrm-form-height", key: key, height: document.body.offsetHeight }, "*");
  }
  window.addEventListener("load", send);
  window.addEventListener("resize", send);
  if (window.ResizeObserver) { new window.ResizeObserver(send).observe(document.body); }
})();
