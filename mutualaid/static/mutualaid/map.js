/* "Show on a map" for the search results: progressive enhancement.
 *
 * The list stays the page; without JavaScript nothing here runs and nothing is missing.
 * Each result with a place carries data-lat / data-lng (and data-approximate); the map's
 * settings are in <script id="map-config" type="application/json">. Leaflet and the map
 * tiles are loaded only when the visitor asks for the map, so a results page costs no
 * map bytes and tells no tile server anything until then.
 */
(function () {
  "use strict";
  var configNode = document.getElementById("map-config");
  var slot = document.getElementById("map-slot");
  if (!configNode || !slot || !document.querySelector) return;
  var config;
  try { config = JSON.parse(configNode.textContent); } catch (e) { return; }
  // The words, in the page's language, from the slot's data- attributes (English fallback).
  function text(name, fallback) { return slot.getAttribute("data-" + name) || fallback; }
  var items = Array.prototype.slice.call(document.querySelectorAll("li.meeting[data-lat][data-lng]"));
  var total = document.querySelectorAll("li.meeting").length;
  if (!items.length) return;

  var button = document.createElement("button");
  button.type = "button";
  button.className = "map-toggle";
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", "results-map");
  button.textContent = text("show", "Show on a map");
  var note = document.createElement("p");
  note.className = "muted";
  note.hidden = true;
  note.textContent = (items.length === total
    ? text("all", "The map shows all {total} meetings listed here.")
    : text("some", "The map shows {shown} of the {total} meetings listed here: " +
      "online meetings have no place on it.")
  ).replace("{total}", total).replace("{shown}", items.length) +
    (document.querySelector("li.meeting[data-approximate]")
      ? " " + text("dashed", "Dashed circles are approximate locations.") : "");
  var mapNode = document.createElement("div");
  mapNode.id = "results-map";
  mapNode.className = "results-map";
  mapNode.hidden = true;
  mapNode.setAttribute("role", "region");
  mapNode.setAttribute("aria-label", text("label", "Map of these meetings"));
  slot.appendChild(button);
  slot.appendChild(note);
  slot.appendChild(mapNode);

  var map = null;
  var loading = false;

  function loadLeaflet(done) {
    if (window.L) { done(); return; }
    var css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = config.css;
    document.head.appendChild(css);
    var script = document.createElement("script");
    script.src = config.js;
    script.onload = done;
    script.onerror = function () {
      loading = false;
      button.textContent = text("failed", "The map could not be loaded");
    };
    document.head.appendChild(script);
  }

  function popupFor(item) {
    // Built from text nodes, never innerHTML: names come from feeds.
    var box = document.createElement("div");
    var link = item.querySelector(".name a");
    var a = document.createElement("a");
    a.href = link ? link.href : "#";
    a.textContent = link ? link.textContent : text("meeting", "Meeting");
    var strong = document.createElement("strong");
    strong.appendChild(a);
    box.appendChild(strong);
    var when = item.querySelector(".when");
    if (when) {
      var p = document.createElement("div");
      p.textContent = when.textContent.replace(/\s+/g, " ").trim();
      box.appendChild(p);
    }
    if (item.getAttribute("data-approximate")) {
      var approx = document.createElement("div");
      approx.textContent = text("approximate", "Approximate location: check the meeting's page.");
      box.appendChild(approx);
    }
    return box;
  }

  function draw() {
    var L = window.L;
    map = L.map(mapNode, { scrollWheelZoom: false });
    L.tileLayer(config.tiles, { maxZoom: 19, attribution: config.attribution }).addTo(map);
    var bounds = [];
    items.forEach(function (item) {
      var lat = parseFloat(item.getAttribute("data-lat"));
      var lng = parseFloat(item.getAttribute("data-lng"));
      if (!isFinite(lat) || !isFinite(lng)) return;
      var approximate = !!item.getAttribute("data-approximate");
      var marker = L.circleMarker([lat, lng], approximate
        ? { radius: 11, color: "#8a5a00", weight: 2, dashArray: "4 4", fillOpacity: 0.15 }
        : { radius: 8, color: "#0b6e4f", weight: 2, fillOpacity: 0.7 });
      marker.bindPopup(popupFor(item));
      marker.addTo(map);
      bounds.push([lat, lng]);
    });
    if (bounds.length === 1) map.setView(bounds[0], 14);
    else map.fitBounds(bounds, { padding: [24, 24], maxZoom: 15 });
  }

  function show(visible) {
    mapNode.hidden = note.hidden = !visible;
    button.setAttribute("aria-expanded", visible ? "true" : "false");
    button.textContent = visible ? text("hide", "Hide the map") : text("show", "Show on a map");
    if (visible && map) map.invalidateSize();
  }

  button.addEventListener("click", function () {
    if (map) { show(mapNode.hidden); return; }
    if (loading) return;
    loading = true;
    button.textContent = text("loading", "Loading the map…");
    loadLeaflet(function () {
      mapNode.hidden = false;
      draw();
      show(true);
    });
  });
})();
