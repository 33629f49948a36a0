// The Hookline console's only script. Pages whose <main> has data-refresh="<ms>" fetch themselves again at
// that interval and swap in the new <main>, while the tab is visible and no form field has focus. Everything
// works without it; it only saves pressing reload.
(function () {
  "use strict";
  // The notice of an action (?done=…) is shown once: the address loses it, so a reload or a refresh does not
  // repeat it.
  if (window.history.replaceState && /[?&]done=/.test(window.location.search)) {
    var query = window.location.search.substring(1).split("&").filter(function (part) {
      return !/^(done|n)=/.test(part);
    }).join("&");
    window.history.replaceState(null, "", window.location.pathname + (query ? "?" + query : ""));
  }
  var main = document.getElementById("main");
  if (!main || !main.dataset.refresh) return;
  var every = Math.max(1000, parseInt(main.dataset.refresh, 10) || 5000);
  function busy() {
    var active = document.activeElement;
    return active && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName);
  }
  function refresh() {
    if (document.hidden || busy()) return schedule();
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        // Signed out (redirected to the form): show it. Any other failure (the database away for a moment):
        // keep the page and try again at the next tick.
        if (response.redirected) { window.location.reload(); return null; }
        if (!response.ok) { schedule(); return null; }
        return response.text();
      })
      .then(function (html) {
        if (html === null) return;
        var next = new DOMParser().parseFromString(html, "text/html").getElementById("main");
        if (!next) return;
        main.innerHTML = next.innerHTML;
        if (next.dataset.refresh) { main.dataset.refresh = next.dataset.refresh; schedule(); }
        else { delete main.dataset.refresh; }
      })
      .catch(schedule);
  }
  function schedule() { window.setTimeout(refresh, every); }
  schedule();
})();
