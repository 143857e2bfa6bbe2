/* LeadCRM web form: puts the form's frame where this script stands and keeps it as tall as the form. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) { return; }
  var url = "{{ form_url|escapejs }}";
  var params = new URLSearchParams(window.location.search);
  var carried = new URLSearchParams();
  ["utm_source", "utm_medium", "utm_campaign", "lang"].forEach(function (name) {
    if (params.get(name)) { carried.set(name, params.get(name)); }
  });
  if (carried.toString()) { url += "?" + carried.toString(); }
  var frame = document.createElement("iframe");
  frame.src = url;
  frame.title = script.getAttribute("data-title") || "form";
  frame.setAttribute("loading", "lazy");
  frame.style.width = "100%";
  frame.style.maxWidth = script.getAttribute("data-max-width") || "640px";
  frame.style.height = "640px";
  frame.style.border = "0";
  frame.style.display = "block";
  script.parentNode.insertBefore(frame, script.nextSibling);
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.source !== frame.contentWindow || !data || data.type !== "leadcrm-form-height") { return; }
    if (data.key === "{{ key|escapejs }}" && data.height > 0) { frame.style.height = Math.ceil(data.height) + "px"; }
  });
})();
