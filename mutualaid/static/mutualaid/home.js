/* The search form's enhancements: the viewer's time zone, and "Use my location".
 *
 * Without JavaScript the form works as it is (a town or postcode, times in the meeting's
 * own zone). The button's messages come from the page (data-finding, data-unavailable) in
 * the page's language.
 */
(function () {
  var tz = document.getElementById("tz");
  try { if (!tz.value) tz.value = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) {}
  var button = document.getElementById("locate");
  if (!navigator.geolocation) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    button.textContent = button.getAttribute("data-finding") || "Finding you…";
    navigator.geolocation.getCurrentPosition(function (pos) {
      document.getElementById("near").value = pos.coords.latitude.toFixed(4) + "," + pos.coords.longitude.toFixed(4);
      document.getElementById("place").value = "";
      button.form.submit();
    }, function () { button.textContent = button.getAttribute("data-unavailable") || "Location not available: type a town instead"; });
  });
  document.getElementById("place").addEventListener("input", function () { document.getElementById("near").value = ""; });
})();
