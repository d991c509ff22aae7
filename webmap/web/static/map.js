/* yzmap issue layer: compact pages from /api/issues?f=map drawn on one canvas, clustered on a grid.
 *
 * A ledger too big to send whole (more located issues in view than ``pointsLimit``) is drawn from
 * the server's grid counts instead (``gridUrl``, /api/issues/grid: a GROUP BY in the database),
 * asked again after every move; once the view holds few enough issues their points are loaded for
 * that box and drawn as below. A small ledger loads every point once, as before.
 *
 * 100,000 Leaflet markers cost seconds to build and to cluster, so issues are not Leaflet layers:
 * their points live in plain arrays and one canvas redraws them after every move. Below
 * `clusterUntilZoom` the points are binned on a fixed 60 px screen grid: a cell holding several
 * issues is drawn as a circle with the count and a ring split by red/amber/green, a cell holding
 * one issue as that issue's glyph. Glyphs are coloured by RAG and shaped by status (legend), so the
 * map reads without colour. Lines and polygons are drawn as Leaflet shapes too, with their point at
 * the centre. Popups are built with DOM nodes and textContent only: user text never runs as script.
 */
(function () {
  "use strict";
  var yzmap = (window.yzmap = window.yzmap || {});
  yzmap.state = {
    drawn: 0, matched: null, pages: 0, done: false, error: null, rendered: 0, mode: null,
  };

  var GLYPH = 18; // glyph box in CSS pixels
  var CELL = 60; // cluster grid in CSS pixels
  var HIT = 10; // click/hover radius around a glyph
  var CIRCLE = "M16 9A7 7 0 1 1 2 9A7 7 0 1 1 16 9Z";

  /* Draw one glyph (shape filled with colour, dark outline) into a small offscreen canvas.
   * ``glyphs`` (shape -> [body path, optional white mark]) comes from maps.GLYPH_PATHS, the same
   * paths the detail page's marker uses. */
  function makeSprite(glyphs, shape, color, ratio) {
    var c = document.createElement("canvas");
    c.width = c.height = Math.ceil(GLYPH * ratio);
    var ctx = c.getContext("2d");
    ctx.scale(ratio, ratio);
    var paths = glyphs[shape] || glyphs.circle || [CIRCLE];
    var body = new Path2D(paths[0]);
    ctx.fillStyle = color;
    ctx.fill(body);
    ctx.lineWidth = 1;
    ctx.strokeStyle = "#222";
    ctx.stroke(body);
    if (paths[1]) {
      ctx.lineWidth = 2.2;
      ctx.strokeStyle = "#fff";
      ctx.stroke(new Path2D(paths[1]));
    }
    return c;
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

  function detailLink(opts, number, text) {
    var a = document.createElement("a");
    a.href = opts.detailUrl.replace("__NUMBER__", encodeURIComponent(number));
    a.textContent = text;
    return a;
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
    box.appendChild(detailLink(opts, p.number, "查看详情"));
  }

  /* Return a popup body for one issue, filled from the item API when it arrives. */
  function popupBox(opts, number, others, popup) {
    var box = document.createElement("div");
    var main = document.createElement("div");
    main.textContent = "加载中……";
    box.appendChild(main);
    if (others.length) {
      var more = document.createElement("p");
      more.textContent = "此处另有 " + others.length + " 条：";
      others.slice(0, 20).forEach(function (n, k) {
        if (k) more.appendChild(document.createTextNode("、"));
        more.appendChild(detailLink(opts, n, n));
      });
      if (others.length > 20) more.appendChild(document.createTextNode("……"));
      box.appendChild(more);
    }
    fetch(opts.itemUrl.replace("__NUMBER__", encodeURIComponent(number)), {
      headers: { Accept: "application/geo+json" },
    })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (f) {
        fillPopup(main, opts, f);
        if (popup) popup.update();
      })
      .catch(function () {
        main.textContent = "无法加载问题 " + number;
      });
    return box;
  }

  /* A cluster's count as it fits its circle: 10,000 and more in 万 (18,066 -> "1.8万"). */
  function clusterLabel(n) {
    if (n < 10000) return String(n);
    var wan = n / 10000;
    return (wan < 100 ? wan.toFixed(1).replace(/\.0$/, "") : String(Math.round(wan))) + "万";
  }

  /* The points of every loaded issue, drawn and clustered on one canvas. */
  var IssueCanvas = L.Layer.extend({
    options: { pane: "yzIssues", padding: 0.25, clusterUntilZoom: 15 },

    initialize: function (opts) {
      this._opts = opts;
      L.setOptions(this, { clusterUntilZoom: opts.clusterUntilZoom || 15 });
      this._lon = [];
      this._lat = [];
      this._look = []; // index into this._looks: one per (status, RAG) pair
      this._number = [];
      this._looks = [];
      this._lookIndex = {};
      this._px = new Float64Array(0); // points projected at zoom 0, filled lazily
      this._py = new Float64Array(0);
      this._projected = 0;
      this._crs = null;
      this._items = [];
      this._grid = new Map();
      this._cells = null; // server grid cells drawn instead of points (grid mode)
    },

    /* Forget every point (a new view's points replace them). */
    clear: function () {
      this._lon = [];
      this._lat = [];
      this._look = [];
      this._number = [];
      this._projected = 0;
      this._cells = null;
      this.scheduleRedraw();
    },

    /* Draw the server's grid cells (parallel columns of /api/issues/grid) instead of points. */
    setCells: function (body) {
      var cells = [];
      for (var i = 0; i < body.count.length; i++) {
        if (body.lon[i] === null || body.lat[i] === null) continue;
        cells.push({ lat: body.lat[i], lon: body.lon[i], n: body.count[i], rags: body.rags[i] });
      }
      this._cells = cells;
      this.scheduleRedraw();
    },

    /* Append one compact page (parallel columns); return how many located points it added. */
    addPage: function (page) {
      var codes = page.codes, added = 0;
      for (var i = 0; i < page.number.length; i++) {
        var lon = page.lon[i], lat = page.lat[i];
        if (lon === null || lat === null) continue;
        var key = page.status[i] + "|" + page.rag[i];
        var look = this._lookIndex[key];
        if (look === undefined) {
          var status = codes.status[page.status[i]], rag = codes.rag[page.rag[i]];
          look = this._lookIndex[key] = this._looks.length;
          this._looks.push({
            shape: this._opts.statusShapes[status] || "circle",
            color: this._opts.ragColors[rag] || this._opts.ragColors.none || "#888",
            rag: Math.max(0, ["red", "amber", "green", "done", "none"].indexOf(rag)),
            sprite: null,
          });
        }
        this._lon.push(lon);
        this._lat.push(lat);
        this._look.push(look);
        this._number.push(page.number[i]);
        added++;
      }
      this.scheduleRedraw();
      return added;
    },

    count: function () {
      return this._number.length;
    },

    /* Return how many issues the server cells on the canvas hold (0 when drawing points). */
    cellCount: function () {
      return (this._cells || []).reduce(function (sum, c) {
        return sum + c.n;
      }, 0);
    },

    latLngOf: function (i) {
      return L.latLng(this._lat[i], this._lon[i]);
    },

    indexOf: function (number) {
      return this._number.indexOf(number);
    },

    onAdd: function (map) {
      yzmap.map = map;
      if (!map.getPane(this.options.pane)) {
        map.createPane(this.options.pane).style.zIndex = 450; // above shapes, below popups
      }
      var canvas = (this._canvas = L.DomUtil.create("canvas", "yz-issues leaflet-zoom-hide"));
      canvas.style.pointerEvents = "none"; // clicks go to the map, hit-tested against this._grid
      this.getPane().appendChild(canvas);
      if (this._crs !== map.options.crs) {
        this._crs = map.options.crs;
        this._projected = 0;
      }
      this._redraw();
    },

    onRemove: function () {
      L.DomUtil.remove(this._canvas);
      this._canvas = null;
      this._items = [];
      this._grid = new Map();
      this._map.getContainer().style.cursor = "";
    },

    getEvents: function () {
      return {
        moveend: this._redraw,
        resize: this._redraw,
        viewreset: this._redraw,
        click: this._onClick,
        mousemove: this._onMouseMove,
      };
    },

    scheduleRedraw: function () {
      if (this._frame || !this._map) return;
      var self = this;
      this._frame = L.Util.requestAnimFrame(function () {
        self._frame = null;
        self._redraw();
      });
    },

    /* Project new points to zoom-0 pixels once; every redraw then only scales and shifts. */
    _project: function () {
      var n = this._number.length;
      if (this._projected === n) return;
      if (this._px.length < n) {
        var size = Math.max(n, this._px.length * 2, 1024);
        var px = new Float64Array(size), py = new Float64Array(size);
        px.set(this._px.subarray(0, this._projected));
        py.set(this._py.subarray(0, this._projected));
        this._px = px;
        this._py = py;
      }
      for (var i = this._projected; i < n; i++) {
        var p = this._crs.latLngToPoint(L.latLng(this._lat[i], this._lon[i]), 0);
        this._px[i] = p.x;
        this._py[i] = p.y;
      }
      this._projected = n;
    },

    _sprite: function (look, ratio) {
      var l = this._looks[look];
      if (!l.sprite || l.ratio !== ratio) {
        l.sprite = makeSprite(this._opts.glyphs || {}, l.shape, l.color, ratio);
        l.ratio = ratio;
      }
      return l.sprite;
    },

    _redraw: function () {
      var map = this._map;
      if (!map || !this._canvas) return;
      this._project();
      var size = map.getSize(), pad = this.options.padding;
      var min = map.containerPointToLayerPoint(size.multiplyBy(-pad)).round();
      var w = Math.round(size.x * (1 + 2 * pad)), h = Math.round(size.y * (1 + 2 * pad));
      var ratio = window.devicePixelRatio || 1;
      var canvas = this._canvas;
      L.DomUtil.setPosition(canvas, min);
      canvas.width = Math.round(w * ratio);
      canvas.height = Math.round(h * ratio);
      canvas.style.width = w + "px";
      canvas.style.height = h + "px";
      var ctx = canvas.getContext("2d");
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      var zoom = map.getZoom();
      var k = this._crs.scale(zoom) / this._crs.scale(0);
      var origin = min.add(map.getPixelOrigin()); // world pixel of the canvas corner
      this._origin = min; // layer point of the canvas corner, for hit tests
      this._items = [];
      this._grid = new Map();
      if (this._cells) {
        this._drawCells(ctx, min);
      } else if (zoom < this.options.clusterUntilZoom) {
        this._drawClusters(ctx, k, origin, w, h, ratio);
      } else {
        this._drawPoints(ctx, k, origin, w, h, ratio);
      }
      var rendered = 0;
      for (var j = 0; j < this._items.length; j++) rendered += this._items[j].n;
      yzmap.state.rendered = rendered;
    },

    _drawPoints: function (ctx, k, origin, w, h, ratio) {
      var n = this._projected, m = GLYPH, half = GLYPH / 2;
      for (var i = 0; i < n; i++) {
        var x = this._px[i] * k - origin.x, y = this._py[i] * k - origin.y;
        if (x < -m || y < -m || x > w + m || y > h + m) continue;
        ctx.drawImage(this._sprite(this._look[i], ratio), x - half, y - half, GLYPH, GLYPH);
        this._remember({ x: x, y: y, r: HIT, n: 1, i: i });
      }
    },

    _drawClusters: function (ctx, k, origin, w, h, ratio) {
      var cells = new Map(), n = this._projected, m = CELL;
      for (var i = 0; i < n; i++) {
        var gx = this._px[i] * k, gy = this._py[i] * k;
        var x = gx - origin.x, y = gy - origin.y;
        if (x < -m || y < -m || x > w + m || y > h + m) continue;
        // grid fixed in world pixels, so clusters do not jump while panning
        var key = Math.floor(gx / CELL) * 4194304 + Math.floor(gy / CELL);
        var c = cells.get(key);
        if (!c) {
          cells.set(key, (c = { n: 0, sx: 0, sy: 0, i: i, rags: [0, 0, 0, 0, 0] }));
        }
        c.n++;
        c.sx += x;
        c.sy += y;
        c.rags[this._looks[this._look[i]].rag]++;
      }
      var clusters = [], half = GLYPH / 2;
      var self = this;
      cells.forEach(function (c) {
        if (c.n === 1) {
          var x = c.sx, y = c.sy;
          ctx.drawImage(self._sprite(self._look[c.i], ratio), x - half, y - half, GLYPH, GLYPH);
          self._remember({ x: x, y: y, r: HIT, n: 1, i: c.i });
        } else {
          clusters.push(c);
        }
      });
      clusters.forEach(function (c) {
        self._drawCluster(ctx, c);
      });
    },

    /* Draw server cells as clusters at the mean place of their issues (``min``: canvas corner). */
    _drawCells: function (ctx, min) {
      var map = this._map, self = this;
      this._cells.forEach(function (cell) {
        var p = map.latLngToLayerPoint([cell.lat, cell.lon]).subtract(min);
        self._drawCluster(ctx, { n: cell.n, sx: p.x * cell.n, sy: p.y * cell.n, i: -1,
          rags: cell.rags });
      });
    },

    _drawCluster: function (ctx, c) {
      var x = c.sx / c.n, y = c.sy / c.n;
      var r = c.n < 10 ? 12 : c.n < 100 ? 15 : c.n < 1000 ? 18 : c.n < 10000 ? 21 : 24;
      var colors = this._opts.ragColors, names = ["red", "amber", "green", "done", "none"];
      ctx.beginPath();
      ctx.arc(x, y, r, 0, 2 * Math.PI);
      ctx.fillStyle = "rgba(255,255,255,0.92)";
      ctx.fill();
      // ring split by RAG share, red first from twelve o'clock, so late issues stand out
      var start = -Math.PI / 2;
      ctx.lineWidth = 5;
      for (var j = 0; j < 5; j++) {
        if (!c.rags[j]) continue;
        var end = start + (2 * Math.PI * c.rags[j]) / c.n;
        ctx.beginPath();
        ctx.arc(x, y, r - 2.5, start, end);
        ctx.strokeStyle = colors[names[j]] || "#888";
        ctx.stroke();
        start = end;
      }
      ctx.lineWidth = 1;
      ctx.strokeStyle = "#333";
      ctx.beginPath();
      ctx.arc(x, y, r, 0, 2 * Math.PI);
      ctx.stroke();
      ctx.fillStyle = "#111";
      ctx.font = "bold 11px sans-serif";
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillText(clusterLabel(c.n), x, y + 0.5);
      this._remember({ x: x, y: y, r: r, n: c.n, i: c.i, cell: c });
    },

    /* Index a drawn item on a coarse grid of canvas pixels for hit tests. */
    _remember: function (item) {
      this._items.push(item);
      var key = Math.floor(item.x / 32) * 65536 + Math.floor(item.y / 32);
      var list = this._grid.get(key);
      if (list) list.push(item);
      else this._grid.set(key, [item]);
    },

    /* Return the drawn items under a container point, nearest first. */
    _hits: function (containerPoint) {
      if (!this._origin) return [];
      var lp = this._map.containerPointToLayerPoint(containerPoint);
      var x = lp.x - this._origin.x, y = lp.y - this._origin.y;
      var cx = Math.floor(x / 32), cy = Math.floor(y / 32), found = [];
      for (var dx = -1; dx <= 1; dx++) {
        for (var dy = -1; dy <= 1; dy++) {
          var list = this._grid.get((cx + dx) * 65536 + (cy + dy)) || [];
          for (var j = 0; j < list.length; j++) {
            var it = list[j], d = Math.hypot(it.x - x, it.y - y);
            if (d <= it.r) found.push({ item: it, d: d });
          }
        }
      }
      found.sort(function (a, b) {
        return a.d - b.d;
      });
      return found.map(function (f) {
        return f.item;
      });
    },

    _onMouseMove: function (e) {
      var hit = this._hits(e.containerPoint).length > 0;
      this._map.getContainer().style.cursor = hit ? "pointer" : "";
    },

    _onClick: function (e) {
      var hits = this._hits(e.containerPoint);
      if (!hits.length) return;
      var top = hits[0], map = this._map;
      if (top.cell) {
        map.setView(map.containerPointToLatLng(e.containerPoint),
          Math.min(map.getZoom() + 2, map.getMaxZoom()));
        return;
      }
      var self = this;
      var others = hits.slice(1).filter(function (h) {
        return !h.cell && Math.abs(h.x - top.x) < 3 && Math.abs(h.y - top.y) < 3;
      }).map(function (h) {
        return self._number[h.i];
      });
      this.openPopup(top.i, others);
    },

    /* Open the popup of the issue at index ``i`` (``others``: numbers sharing its spot). */
    openPopup: function (i, others) {
      var popup = L.popup({ offset: [0, -6] }).setLatLng(this.latLngOf(i));
      popup.setContent(popupBox(this._opts, this._number[i], others || [], popup));
      popup.openOn(this._map);
      return popup;
    },
  });

  function report(opts) {
    var el = document.getElementById(opts.countElement), n = yzmap.state.drawn;
    // grid mode: the count is of issues summed in cells, not drawn one by one
    var text = yzmap.state.mode === "grid" ? "按网格汇总 " + n.toLocaleString("zh-CN") : String(n);
    if (el) el.textContent = text;
    document.body.setAttribute("data-drawn", String(n));
    document.body.setAttribute("data-map-mode", yzmap.state.mode || "points");
  }

  function failed(opts, e) {
    if (e && e.name === "AbortError") return; // a newer view replaced this request
    yzmap.state.error = String(e);
    var el = document.getElementById(opts.countElement);
    if (el) el.textContent = "加载失败";
  }

  function markReady(points) {
    L.Util.requestAnimFrame(function () {
      points._redraw();
      document.body.setAttribute("data-map-ready", "1");
    });
  }

  function addShapes(opts, page, shapes, points) {
    (page.shapes || []).forEach(function (item) {
      var i = item[0], number = page.number[i], rag = page.codes.rag[page.rag[i]];
      var shape = L.geoJSON(item[1], {
        style: { color: opts.ragColors[rag] || "#888", weight: 3, fillOpacity: 0.25 },
      });
      shape.on("click", function (e) {
        L.popup().setLatLng(e.latlng)
          .setContent(popupBox(opts, number, [], null)).openOn(points._map || e.target._map);
      });
      shapes.addLayer(shape);
    });
  }

  function getJson(url, signal) {
    return fetch(url, { headers: { Accept: "application/json" }, signal: signal })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      });
  }

  /* Page through ``url`` into the canvas; ``load`` (an AbortController) stops a replaced load. */
  function loadPages(opts, points, shapes, url, load) {
    getJson(url, load && load.signal)
      .then(function (page) {
        var next = (page.links || []).filter(function (l) {
          return l.rel === "next";
        })[0];
        // ask for the next page before drawing this one: the server works while we draw
        if (next) loadPages(opts, points, shapes, next.href, load);
        if (yzmap.state.mode !== "grid") yzmap.state.matched = page.numberMatched;
        yzmap.state.pages += 1;
        addShapes(opts, page, shapes, points);
        yzmap.state.drawn += points.addPage(page);
        report(opts);
        if (!next) {
          yzmap.state.done = true;
          markReady(points);
        }
      })
      .catch(function (e) {
        failed(opts, e);
      });
  }

  /* Return ``url`` with a query parameter set (relative URLs stay relative). */
  function withParam(url, name, value) {
    var u = new URL(url, window.location.href);
    u.searchParams.set(name, value);
    return u.pathname + u.search;
  }

  /* Return the box of ``bounds`` as "minx,miny,maxx,maxy", cut to the box of a ``bbox`` filter. */
  function boxText(bounds, url) {
    var box = [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()];
    var filter = new URL(url, window.location.href).searchParams.get("bbox");
    if (filter) {
      var f = filter.split(",").map(Number);
      box = [Math.max(box[0], f[0]), Math.max(box[1], f[1]), Math.min(box[2], f[2]),
        Math.min(box[3], f[3])];
      box[2] = Math.max(box[0], box[2]);
      box[3] = Math.max(box[1], box[3]);
    }
    box = [Math.max(box[0], -180), Math.max(box[1], -90), Math.min(box[2], 180),
      Math.min(box[3], 90)];
    return box.map(function (v) {
      return v.toFixed(5);
    }).join(",");
  }

  /* The big-ledger path: grid cells from the server, points once the view holds few enough. */
  function Overview(opts, points, shapes) {
    this.opts = opts;
    this.points = points;
    this.shapes = shapes;
    this.request = null; // AbortController of the request in flight
    this.loaded = null; // bounds whose points are on the canvas (view-points mode)
    this.timer = null;
  }

  /* Ask the grid for the whole query first: a small ledger then loads every point, as before. */
  Overview.prototype.start = function (map) {
    var self = this;
    this.map = map;
    this.ask(withParam(this.opts.gridUrl, "zoom", Math.round(map.getZoom())), function (grid) {
      if (grid.numberLocated <= self.opts.pointsLimit) {
        yzmap.state.mode = "points";
        loadPages(self.opts, self.points, self.shapes, self.opts.dataUrl, null);
        return;
      }
      self.showGrid(grid);
      map.on("moveend", self.moved, self);
    });
  };

  Overview.prototype.ask = function (url, then) {
    if (this.request) this.request.abort();
    var request = (this.request = new AbortController()), self = this;
    getJson(url, request.signal)
      .then(function (body) {
        if (self.request === request) self.request = null;
        then(body);
      })
      .catch(function (e) {
        failed(self.opts, e);
      });
  };

  Overview.prototype.showGrid = function (grid) {
    var state = yzmap.state;
    this.loaded = null;
    this.shapes.clearLayers();
    this.points.clear();
    this.points.setCells(grid);
    state.mode = "grid";
    state.matched = grid.numberMatched;
    state.drawn = this.points.cellCount();
    state.done = true;
    report(this.opts);
    markReady(this.points);
  };

  /* After a move (debounced): keep loaded points that cover the view, else ask the grid. */
  Overview.prototype.moved = function () {
    var self = this;
    clearTimeout(this.timer);
    this.timer = setTimeout(function () {
      self.refresh();
    }, 250);
  };

  Overview.prototype.refresh = function () {
    var map = this.map, self = this, view = map.getBounds().pad(0.25);
    if (this.loaded && this.loaded.contains(map.getBounds())) return;
    var url = withParam(withParam(this.opts.gridUrl, "zoom", Math.round(map.getZoom())), "view",
      boxText(view, this.opts.gridUrl));
    this.ask(url, function (grid) {
      if (self.opts.viewPoints && grid.numberLocated <= self.opts.pointsLimit) {
        self.showPoints(view, grid);
      } else {
        self.showGrid(grid);
      }
    });
  };

  /* Load the points of ``view`` (few enough now) and draw them as a small ledger's. */
  Overview.prototype.showPoints = function (view, grid) {
    var state = yzmap.state, load = new AbortController();
    if (this.request) this.request.abort();
    this.request = load;
    this.loaded = view;
    this.shapes.clearLayers();
    this.points.clear();
    state.mode = "view-points";
    state.matched = grid.numberMatched;
    state.drawn = 0;
    state.pages = 0;
    state.done = false;
    var url = withParam(this.opts.dataUrl, "bbox", boxText(view, this.opts.dataUrl));
    loadPages(this.opts, this.points, this.shapes, url, load);
  };

  /* Return a layer group holding the issue points and shapes; data loads in the background. */
  yzmap.issueLayer = function (opts) {
    var points = new IssueCanvas(opts);
    var shapes = L.featureGroup();
    yzmap.issues = points;
    if (!opts.gridUrl) {
      yzmap.state.mode = "points";
      loadPages(opts, points, shapes, opts.dataUrl, null);
    } else {
      var overview = (yzmap.overview = new Overview(opts, points, shapes));
      points.once("add", function () {
        overview.start(points._map);
      });
    }
    return L.layerGroup([shapes, points]);
  };
})();
