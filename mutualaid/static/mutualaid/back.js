/* "Back to results" on a meeting's page: the link goes to the search page; when the visitor
 * came from this site's results, go back to them instead (with their scroll position).
 * A static file, not an inline handler: the Content-Security-Policy forbids inline script. */
(function () {
  "use strict";
  var link = document.getElementById("back-to-results");
  if (!link || !document.referrer || window.history.length < 2) return;
  var from;
  try { from = new URL(document.referrer); } catch (e) { return; }
  if (from.origin !== window.location.origin || from.pathname !== "/") return;
  link.href = from.pathname + from.search;
  link.addEventListener("click", function (event) {
    event.preventDefault();
    window.history.back();
  });
})();
