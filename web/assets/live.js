// Live updates: listen to the page's event stream and, on each change, fetch the page again and
// swap in its `data-live` regions (by id). Pages work without this script; it only saves reloads.
(function () {
  "use strict";
  var url = document.body.getAttribute("data-live-events");
  if (!url || !window.EventSource || !window.fetch) return;
  var busy = false, again = false;
  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(location.href, { credentials: "same-origin", headers: { "X-Tollgate-Live": "1" } })
      .then(function (r) {
        if (r.redirected || !r.ok) { location.reload(); return null; }
        return r.text();
      })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live]").forEach(function (el) {
          var fresh = el.id && doc.getElementById(el.id);
          if (fresh && fresh.innerHTML !== el.innerHTML) el.innerHTML = fresh.innerHTML;
        });
        document.body.setAttribute("data-live-updated", String(Date.now()));
      })
      .catch(function () {})
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }
  var events = new EventSource(url);
  events.addEventListener("change", refresh);
  // Says the page is following changes (tests wait for it; the attribute goes when it drops).
  // After a reconnect (a server restarted), catch up on what happened meanwhile.
  var opened = false;
  events.onopen = function () {
    document.body.setAttribute("data-live-connected", "1");
    if (opened) refresh();
    opened = true;
  };
  events.onerror = function () { document.body.removeAttribute("data-live-connected"); };
})();
