/* yzmap issue layer: pages of GeoJSON from /api/issues drawn into one marker cluster.
 *
 * One light marker per issue (an SVG DivIcon: colour = red/amber/green, shape = status) inside
 * Leaflet.markercluster with chunked loading, so 100,000 issues stay usable. Lines and polygons
 * are drawn as shapes as well, with their marker at the centre. Popups are built with DOM nodes
 * and textContent only: user text can never run as script.
 */
(function () {
  "use strict";
  var yzmap = (window.yzmap = window.yzmap || {});
  yzmap.state = { drawn: 0, matched: null, pages: 0, done: false, error: null };

  var SHAPES = {
    circle: '<circle cx="9" cy="9" r="7"/>',
    square: '<rect x="2.5" y="2.5" width="13" height="13"/>',
    triangle: '<path d="M9 1.5 L16.5 15.5 L1.5 15.5 Z"/>',
    diamond: '<path d="M9 1 L17 9 L9 17 L1 9 Z"/>',
    star: '<path d="M9 1 L11.3 6.6 L17 6.9 L12.6 10.6 L14 16.5 L9 13.3 L4 16.5 L5.4 10.6 L1 6.9 L6.7 6.6 Z"/>',
    check: '<circle cx="9" cy="9" r="7.5"/><path d="M5 9.5 L8 12.5 L13 6" fill="none" stroke="#fff" stroke-width="2.2"/>',
  };
  var iconCache = {};

  function markerIcon(opts, status, rag) {
    var key = status + "|" + rag;
    if (!iconCache[key]) {
      var shape = SHAPES[opts.statusShapes[status] || "circle"] || SHAPES.circle;
      var color = opts.ragColors[rag] || opts.ragColors.none || "#888";
      iconCache[key] = L.divIcon({
        className: "yz-mk yz-rag-" + (rag || "none"),
        html: '<svg width="18" height="18" viewBox="0 0 18 18" fill="' + color +
          '" stroke="#222" stroke-width="1">' + shape + "</svg>",
        iconSize: [18, 18],
        iconAnchor: [9, 9],
        popupAnchor: [0, -8],
      });
    }
    return iconCache[key];
  }

  function clusterIcon(cluster) {
    var n = cluster.getChildCount();
    var size = n < 100 ? 30 : n < 1000 ? 36 : 44;
    return L.divIcon({
      className: "yz-cluster",
      html: '<div style="width:' + size + "px;height:" + size + "px;line-height:" + size +
        'px;text-align:center">' + n + "</div>",
      iconSize: [size, size],
    });
  }

  function addRow(table, label, value) {
    var tr = document.createElement("tr");
    var th = document.createElement("th");
    var td = document.createElement("td");
    th.textContent = label;
    td.textContent = value === null || value === undefined || value === "" ? "—" : String(value);
    tr.appendChild(th);
    tr.appendChild(td);
    table.appendChild(tr);
  }

  function fillPopup(box, opts, feature) {
    var p = feature.properties || {};
    box.textContent = "";
    var h = document.createElement("strong");
    h.textContent = (p.number || "") + " " + (p.title || "");
    box.appendChild(h);
    var table = document.createElement("table");
    table.className = "yz-popup";
    opts.popupFields.forEach(function (f) {
      addRow(table, f[1], p[f[0]]);
    });
    box.appendChild(table);
    var a = document.createElement("a");
    a.href = opts.detailUrl.replace("__NUMBER__", encodeURIComponent(p.number));
    a.textContent = "查看详情";
    box.appendChild(a);
  }

  function popupFor(opts, number) {
    return function () {
      var box = document.createElement("div");
      box.textContent = "加载中……";
      fetch(opts.itemUrl.replace("__NUMBER__", encodeURIComponent(number)), {
        headers: { Accept: "application/geo+json" },
      })
        .then(function (r) {
          if (!r.ok) throw new Error("HTTP " + r.status);
          return r.json();
        })
        .then(function (f) {
          fillPopup(box, opts, f);
        })
        .catch(function () {
          box.textContent = "无法加载问题 " + number;
        });
      return box;
    };
  }

  function toMarkers(opts, features, shapes) {
    var markers = [];
    for (var i = 0; i < features.length; i++) {
      var f = features[i];
      var g = f.geometry;
      if (!g) continue;
      var p = f.properties || {};
      var latlng;
      if (g.type === "Point") {
        latlng = L.latLng(g.coordinates[1], g.coordinates[0]);
      } else {
        var shape = L.geoJSON(f, {
          style: { color: opts.ragColors[p.rag] || "#888", weight: 3, fillOpacity: 0.25 },
        });
        shape.bindPopup(popupFor(opts, p.number));
        shapes.addLayer(shape);
        latlng = shape.getBounds().getCenter();
      }
      var m = L.marker(latlng, { icon: markerIcon(opts, p.status, p.rag), title: String(p.number) });
      m.bindPopup(popupFor(opts, p.number));
      markers.push(m);
    }
    return markers;
  }

  function report(opts) {
    var el = document.getElementById(opts.countElement);
    if (el) el.textContent = String(yzmap.state.drawn);
    document.body.setAttribute("data-drawn", String(yzmap.state.drawn));
    if (yzmap.state.done) document.body.setAttribute("data-map-ready", "1");
  }

  function loadPages(opts, cluster, shapes, url) {
    fetch(url, { headers: { Accept: "application/geo+json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (page) {
        yzmap.state.matched = page.numberMatched;
        yzmap.state.pages += 1;
        var markers = toMarkers(opts, page.features, shapes);
        cluster.addLayers(markers);
        yzmap.state.drawn += markers.length;
        var next = (page.links || []).filter(function (l) {
          return l.rel === "next";
        })[0];
        if (next) {
          loadPages(opts, cluster, shapes, next.href);
        } else {
          yzmap.state.done = true;
        }
        report(opts);
      })
      .catch(function (e) {
        yzmap.state.error = String(e);
        var el = document.getElementById(opts.countElement);
        if (el) el.textContent = "加载失败";
      });
  }

  /* Return a layer group holding the issue cluster and shapes; data loads in the background. */
  yzmap.issueLayer = function (opts) {
    var cluster = L.markerClusterGroup({
      chunkedLoading: true,
      showCoverageOnHover: false,
      iconCreateFunction: clusterIcon,
      maxClusterRadius: 50,
    });
    var shapes = L.featureGroup();
    yzmap.cluster = cluster;
    loadPages(opts, cluster, shapes, opts.dataUrl);
    return L.layerGroup([shapes, cluster]);
  };
})();
