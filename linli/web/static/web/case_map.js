/* Case maps (Leaflet, vendored).
 *
 * Two uses:
 * - the filing page (#case-map + json #case-map-data): tap a spot to set the hidden
 *   latitude/longitude inputs, or tap a building to choose it in the building select;
 * - a case's detail (#case-point-map + json #case-point-data): the case's point.
 *
 * Tiles are drawn only when the site configures a tile server (LINLI_MAP_TILE_URL); by
 * default nothing is fetched from outside (closed networks) and the map shows the grid
 * boundaries and buildings as vector layers. Without JavaScript the page works with the
 * building select alone.
 */
(function () {
  "use strict";

  function readJson(id) {
    var node = document.getElementById(id);
    if (!node) return null;
    try {
      return JSON.parse(node.textContent);
    } catch (error) {
      return null;
    }
  }

  function baseMap(element, data) {
    var map = L.map(element, { zoomControl: true, attributionControl: Boolean(data.tiles) });
    if (data.tiles) {
      L.tileLayer(data.tiles, { maxZoom: 20, attribution: data.attribution || "" }).addTo(map);
    }
    return map;
  }

  // Layers are built first and added once the map has a view: Leaflet cannot project
  // vector layers onto a map that has no centre and zoom yet.
  function unitLayers(units, bounds) {
    var layers = [];
    (units || []).forEach(function (unit) {
      if (!unit.boundary) return;
      var layer = L.geoJSON(unit.boundary, {
        style: { color: "#0b57a4", weight: unit.level === "community" ? 3 : 1.5, fillOpacity: 0.05 },
        interactive: false,
      });
      var unitBounds = layer.getBounds();
      if (unitBounds.isValid()) bounds.extend(unitBounds);
      layers.push(layer);
    });
    return layers;
  }

  function show(map, bounds, layers) {
    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [16, 16], maxZoom: 18 });
    } else {
      map.setView([31.23, 121.47], 12); // a tile server but nothing drawn yet: Shanghai
    }
    layers.forEach(function (layer) { layer.addTo(map); });
  }

  // Leaflet puts a string into a tooltip as HTML: a building's name (which staff type) is
  // handed over as an element holding it as text.
  function plain(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  }

  function pointMarker(latlng) {
    return L.circleMarker(latlng, {
      radius: 9, color: "#b3261e", weight: 3, fillColor: "#b3261e", fillOpacity: 0.5,
    });
  }

  function setUpFiling() {
    var element = document.getElementById("case-map");
    var data = readJson("case-map-data");
    if (!element || !data || typeof L === "undefined") return;
    var hasShapes = (data.units || []).some(function (unit) { return unit.boundary; });
    var hasBuildings = (data.buildings || []).length > 0;
    if (!data.tiles && !hasShapes && !hasBuildings) return; // nothing to tap on

    var select = document.getElementById("id_building");
    var latInput = document.getElementById("id_latitude");
    var lngInput = document.getElementById("id_longitude");
    var status = document.getElementById("case-map-point");
    var hint = document.getElementById("case-map-hint");

    element.hidden = false;
    if (hint) hint.hidden = false;
    var map = baseMap(element, data);
    var bounds = L.latLngBounds([]);
    var layers = unitLayers(data.units, bounds);

    var marker = null;
    function showPoint(latlng) {
      if (marker) marker.remove();
      marker = latlng ? pointMarker(latlng).addTo(map) : null;
      if (status) {
        status.hidden = !latlng;
        status.textContent = latlng
          ? status.getAttribute("data-label") + " " + latlng.lat.toFixed(6) + ", " + latlng.lng.toFixed(6)
          : "";
      }
    }
    function choosePoint(latlng) {
      latInput.value = latlng.lat.toFixed(6);
      lngInput.value = latlng.lng.toFixed(6);
      if (select) select.value = "";
      showPoint(latlng);
    }

    (data.buildings || []).forEach(function (building) {
      var latlng = L.latLng(building.lat, building.lng);
      bounds.extend(latlng);
      var dot = L.circleMarker(latlng, {
        radius: 7, color: "#333", weight: 2, fillColor: "#fff", fillOpacity: 1,
        className: "case-map-building case-map-building-" + building.id,
      })
        .bindTooltip(plain(building.name))
        .on("click", function (event) {
          L.DomEvent.stopPropagation(event);
          var known = select && select.querySelector('option[value="' + building.id + '"]');
          if (known) {
            select.value = String(building.id);
            latInput.value = "";
            lngInput.value = "";
            showPoint(null);
          } else {
            choosePoint(latlng);
          }
        });
      layers.push(dot);
    });

    map.on("click", function (event) { choosePoint(event.latlng); });
    if (select) {
      select.addEventListener("change", function () {
        if (select.value) {
          latInput.value = "";
          lngInput.value = "";
          showPoint(null);
        }
      });
    }

    var start = latInput.value && lngInput.value
      ? L.latLng(parseFloat(latInput.value), parseFloat(lngInput.value))
      : null;
    if (start) bounds.extend(start);
    show(map, bounds, layers);
    if (start) showPoint(start);
  }

  function setUpCasePoint() {
    var element = document.getElementById("case-point-map");
    var data = readJson("case-point-data");
    if (!element || !data || typeof L === "undefined") return;
    element.hidden = false;
    var map = baseMap(element, data);
    var bounds = L.latLngBounds([]);
    var layers = unitLayers(data.units, bounds);
    var latlng = L.latLng(data.lat, data.lng);
    layers.push(pointMarker(latlng));
    bounds.extend(latlng);
    show(map, bounds, layers);
  }

  function start() {
    setUpFiling();
    setUpCasePoint();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
