/* The 民情 map (Leaflet, vendored).
 *
 * Reads two json_script blocks: #resilience-map-data (a GeoJSON FeatureCollection of the
 * unit's subtree: grid units with their boundaries, buildings as points, each with counts)
 * and #resilience-map-config (tile URL, the four colourings, words for popups and legend).
 *
 * The finest drawn units (those with no drawn unit inside them) and the buildings are
 * coloured by the chosen layer; coarser units are outlines. Tiles are drawn only when the
 * site configures a tile server (LINLI_MAP_TILE_URL); otherwise the community's own shapes
 * sit on a plain background and nothing is fetched from outside. Clicking a building fetches
 * its counts from a small scoped JSON endpoint; clicking a unit shows its counts and a link
 * to its own map. The tables below the map carry the same numbers without JavaScript.
 */
(function () {
  "use strict";

  var NO_DATA = "#bdbdbd";
  // Four classes, worst to best (or low to high where neither end is better).
  var RAMP_GOOD_HIGH = ["#b3261e", "#e8833a", "#f2c94c", "#2e7d32"];
  var RAMP_NEUTRAL = ["#efe3f5", "#c9a3d9", "#9557b3", "#5b2a86"];

  function readJson(id) {
    var node = document.getElementById(id);
    if (!node) return null;
    try {
      return JSON.parse(node.textContent);
    } catch (error) {
      return null;
    }
  }

  function format(value, kind) {
    if (value === null || value === undefined) return "—";
    if (kind === "percent") return Math.round(value * 100) + "%";
    if (kind === "score" || kind === "ratio") return Number(value).toFixed(2);
    return String(value);
  }

  // Three thresholds splitting [0, max] where the layer has no fixed breaks.
  function breaksFor(layer, values) {
    if (layer.breaks) return layer.breaks;
    var max = values.reduce(function (a, b) { return Math.max(a, b); }, 0);
    if (layer.format === "count") {
      // 0 is its own class (no open case); then thirds of the rest, in whole numbers.
      var third = Math.max(1, Math.ceil(max / 3));
      return [0.5, third + 0.5, 2 * third + 0.5];
    }
    var step = max > 0 ? max / 4 : 0.25;
    return [step, 2 * step, 3 * step];
  }

  function ramp(layer) {
    if (layer.better === "higher") return RAMP_GOOD_HIGH;
    if (layer.better === "lower") return RAMP_GOOD_HIGH.slice().reverse();
    return RAMP_NEUTRAL;
  }

  function classOf(value, breaks) {
    var index = 0;
    while (index < breaks.length && value >= breaks[index]) index += 1;
    return index;
  }

  function legendRows(layer, breaks) {
    var colours = ramp(layer);
    var rows = [];
    if (layer.format === "count" && !layer.breaks) {
      rows.push([colours[0], "0"]);
      var bounds = [1, Math.ceil(breaks[1]), Math.ceil(breaks[2])];
      rows.push([colours[1], bounds[0] + "–" + (bounds[1] - 1)]);
      rows.push([colours[2], bounds[1] + "–" + (bounds[2] - 1)]);
      rows.push([colours[3], "≥ " + bounds[2]]);
      return rows;
    }
    rows.push([colours[0], "< " + format(breaks[0], layer.format)]);
    rows.push([colours[1], format(breaks[0], layer.format) + "–" + format(breaks[1], layer.format)]);
    rows.push([colours[2], format(breaks[1], layer.format) + "–" + format(breaks[2], layer.format)]);
    rows.push([colours[3], "≥ " + format(breaks[2], layer.format)]);
    return rows;
  }

  function textLine(parent, label, value) {
    var row = document.createElement("div");
    var name = document.createElement("span");
    name.className = "muted";
    name.textContent = label + ": ";
    var number = document.createElement("b");
    number.textContent = value;
    row.appendChild(name);
    row.appendChild(number);
    parent.appendChild(row);
  }

  function heading(parent, text) {
    var title = document.createElement("strong");
    title.textContent = text;
    parent.appendChild(title);
  }

  function link(parent, href, text) {
    var anchor = document.createElement("a");
    anchor.href = href;
    anchor.textContent = text;
    var row = document.createElement("div");
    row.appendChild(anchor);
    parent.appendChild(row);
  }

  function hiddenOr(value, labels) {
    return value === null || value === undefined ? labels.hidden : String(value);
  }

  function unitPopup(properties, config) {
    var labels = config.labels;
    var box = document.createElement("div");
    box.className = "map-popup";
    heading(box, properties.name);
    textLine(box, labels.households, String(properties.households));
    textLine(box, labels.visited, properties.visited_30d + " / " + properties.households +
      " (" + format(properties.visit_coverage, "percent") + ")");
    textLine(box, labels.open_cases, String(properties.open_cases));
    textLine(box, labels.vulnerable, hiddenOr(properties.vulnerable, labels));
    textLine(box, labels.index, format(properties.index, "score"));
    if (properties.index !== null) {
      ["structural", "capacity", "cultural"].forEach(function (dimension) {
        textLine(box, "· " + labels[dimension], format(properties[dimension], "score"));
      });
    }
    link(box, config.unit_url + properties.id, labels.open_unit);
    return box;
  }

  function buildingPopup(counts, config) {
    var labels = config.labels;
    var box = document.createElement("div");
    box.className = "map-popup";
    heading(box, counts.name);
    textLine(box, labels.households, String(counts.households));
    textLine(box, labels.residents, String(counts.residents));
    textLine(box, labels.visited, counts.visited_30d + " / " + counts.households +
      " (" + format(counts.visit_coverage, "percent") + ")");
    textLine(box, labels.last_visit, counts.last_visit ? counts.last_visit.slice(0, 10) : "—");
    textLine(box, labels.vulnerable, hiddenOr(counts.vulnerable, labels));
    (counts.vulnerable_by_tag || []).forEach(function (tag) {
      textLine(box, "· " + tag.label, String(tag.count));
    });
    textLine(box, labels.open_cases, counts.open_cases + " (" + labels.overdue_cases + " " +
      counts.overdue_cases + ")");
    (counts.open_cases_by_category || []).forEach(function (row) {
      textLine(box, "· " + row.category, String(row.count));
    });
    link(box, config.building_page_url.replace(config.placeholder, String(counts.id)),
      labels.open_building);
    return box;
  }

  // Leaflet puts a string into tooltips and popups as HTML: names (which staff type) are
  // always handed over as an element holding them as text.
  function plain(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  }

  function message(text) {
    var box = document.createElement("div");
    box.textContent = text;
    return box;
  }

  function start() {
    var element = document.getElementById("resilience-map");
    var data = readJson("resilience-map-data");
    var config = readJson("resilience-map-config");
    if (!element || !data || !config || typeof L === "undefined") return;
    var features = data.features || [];
    var units = features.filter(function (f) { return f.properties.kind === "unit" && f.geometry; });
    var buildings = features.filter(function (f) { return f.properties.kind === "building" && f.geometry; });
    if (!config.tiles && !units.length && !buildings.length) return; // nothing to draw

    element.hidden = false;
    var map = L.map(element, { zoomControl: true, attributionControl: Boolean(config.tiles) });
    if (config.tiles) {
      L.tileLayer(config.tiles, { maxZoom: 20, attribution: config.attribution || "" }).addTo(map);
    } else {
      element.classList.add("plain");
    }

    // A unit is filled when no other drawn unit lies inside it; the rest are outlines.
    var filled = {};
    units.forEach(function (outer) {
      filled[outer.properties.id] = !units.some(function (inner) {
        return inner !== outer && inner.properties.path.indexOf(outer.properties.path) === 0;
      });
    });
    // Coarse units first so the finer ones sit on top and take the clicks.
    units.sort(function (a, b) { return a.properties.path.length - b.properties.path.length; });

    var bounds = L.latLngBounds([]);
    var unitLayers = [];
    units.forEach(function (feature) {
      var layer = L.geoJSON(feature, {
        interactive: Boolean(filled[feature.properties.id]),
        style: { className: "map-unit map-unit-" + feature.properties.id },
      });
      layer.feature_ = feature;
      if (filled[feature.properties.id]) {
        layer.bindPopup(function () { return unitPopup(feature.properties, config); });
        layer.bindTooltip(plain(feature.properties.name), { sticky: true });
      }
      var unitBounds = layer.getBounds();
      if (unitBounds.isValid()) bounds.extend(unitBounds);
      unitLayers.push(layer);
    });

    var buildingLayers = [];
    buildings.forEach(function (feature) {
      var coordinates = feature.geometry.coordinates;
      var latlng = L.latLng(coordinates[1], coordinates[0]);
      bounds.extend(latlng);
      var marker = L.circleMarker(latlng, {
        radius: 7, weight: 2, color: "#333", fillOpacity: 0.95,
        className: "map-building map-building-" + feature.properties.id,
      });
      marker.feature_ = feature;
      marker.bindTooltip(plain(feature.properties.name));
      marker.bindPopup(message(config.labels.loading));
      marker.on("click", function () {
        var url = config.building_url.replace(config.placeholder, String(feature.properties.id));
        fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) {
            if (!response.ok) throw new Error(String(response.status));
            return response.json();
          })
          .then(function (counts) { marker.setPopupContent(buildingPopup(counts, config)); })
          .catch(function () { marker.setPopupContent(message(config.labels.failed)); });
      });
      buildingLayers.push(marker);
    });

    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [16, 16], maxZoom: 18 });
    } else {
      map.setView([31.23, 121.47], 12); // a tile server but nothing drawn: Shanghai
    }
    unitLayers.forEach(function (layer) { layer.addTo(map); });
    buildingLayers.forEach(function (layer) { layer.addTo(map); });

    var legend = L.control({ position: "bottomright" });
    legend.onAdd = function () {
      var box = L.DomUtil.create("div", "map-legend");
      box.setAttribute("data-testid", "map-legend");
      return box;
    };
    legend.addTo(map);

    function colour(layer, breaks, value) {
      if (value === null || value === undefined) return NO_DATA;
      return ramp(layer)[classOf(value, breaks)];
    }

    function apply(key) {
      var layer = config.layers.filter(function (l) { return l.key === key; })[0] || config.layers[0];
      var values = [];
      unitLayers.concat(buildingLayers).forEach(function (item) {
        var value = item.feature_.properties[layer.property];
        if (value !== null && value !== undefined && (item.setRadius || filled[item.feature_.properties.id])) {
          values.push(value);
        }
      });
      var breaks = breaksFor(layer, values);
      unitLayers.forEach(function (item) {
        var properties = item.feature_.properties;
        var isFilled = filled[properties.id];
        item.setStyle({
          color: "#0b57a4",
          weight: properties.path === data.unit.path ? 3 : 1.5,
          fillColor: isFilled ? colour(layer, breaks, properties[layer.property]) : "#ffffff",
          fillOpacity: isFilled ? 0.55 : 0,
        });
      });
      buildingLayers.forEach(function (item) {
        item.setStyle({ fillColor: colour(layer, breaks, item.feature_.properties[layer.property]) });
      });
      var box = element.querySelector(".map-legend");
      if (box) {
        box.textContent = "";
        heading(box, layer.label);
        legendRows(layer, breaks).concat([[NO_DATA, config.labels.no_data]]).forEach(function (row) {
          var line = document.createElement("div");
          var swatch = document.createElement("i");
          swatch.style.background = row[0];
          line.appendChild(swatch);
          line.appendChild(document.createTextNode(" " + row[1]));
          box.appendChild(line);
        });
      }
    }

    var radios = document.querySelectorAll('input[name="map-layer"]');
    Array.prototype.forEach.call(radios, function (radio) {
      radio.addEventListener("change", function () { if (radio.checked) apply(radio.value); });
    });
    var checked = document.querySelector('input[name="map-layer"]:checked');
    apply(checked ? checked.value : config.layers[0].key);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
