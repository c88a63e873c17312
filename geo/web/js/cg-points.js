/* The map's asset points (geo.web.maps.AssetScripts): the popup details (cgDetails), a popup built
 * with textContent (cgPopup), a focusable point of any marker shape (CgPoint), a cluster showing its
 * types as a ring and named in words (cgClusterIcon), the one layer that clusters every point and draws
 * what is in view (CgClusterLayer), one type's points in it (CgTypeLayer) and cgFill, which decodes the
 * payload. Served by the app (geo.web.webassets)
 * or inlined into a standalone map; the map's own script only gives data and calls these.
 *
 * Keyboard: every point and cluster is in the tab order with a name; Enter or Space on a cluster
 * zooms in to it (or spreads it out at the deepest zoom) and focuses the first place that was in it;
 * on a point it opens the popup and
 * moves the focus into it; Escape closes the popup (cg-map.js). */
window.cgDetails = (function () {
    // The popup details table: fetched once from a URL, or given inline (see cgSetup).
    var rows = null, waiting = [], started = false, source = {};
    function flush() { var w = waiting; waiting = []; w.forEach(function (cb) { cb(rows); }); }
    function details(cb) {
        if (rows !== null) { cb(rows); return; }
        waiting.push(cb);
        if (started) { return; }
        started = true;
        if (source.url) {
            fetch(source.url, {credentials: "same-origin"})
                .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
                .then(function (d) { rows = d.rows || []; flush(); })
                .catch(function () { rows = []; flush(); });
        } else {
            rows = (source.inline && source.inline.rows) || []; flush();
        }
    }
    details.from = function (url, inline) { source = {url: url, inline: inline}; rows = null; started = false; };
    return details;
})();
// What geo.web.maps.AssetScripts gives: where the details are, and the points' radius and outline colour.
window.cgPointStyle = {radius: 7, color: "#1f1f1f"};
window.cgSetup = function (o, inline) {
    window.cgDetails.from(o.url || null, inline || null);
    window.cgPointStyle = {radius: o.radius, color: o.outline};
};
window.cgPopup = function (layer, onDetails) {
    var el = document.createElement("div");
    el.className = "cg-popup";
    var b = document.createElement("strong");
    b.textContent = layer.cgName;
    el.appendChild(b);
    var t = document.createElement("div");
    t.textContent = layer.cgType;
    el.appendChild(t);
    var a = document.createElement("div");
    a.className = "cg-address";
    a.textContent = "Loading address\u2026";
    el.appendChild(a);
    window.cgDetails(function (rows) {
        var r = rows && rows[layer.cgIdx];
        if (!r) { a.textContent = "Address: see the table beside the map"; return; }
        a.textContent = r[0] ? r[0] : "No address recorded";
        if (r[1]) { var h = document.createElement("div"); h.className = "cg-hours"; h.textContent = "Opening hours: " + r[1]; el.appendChild(h); }
        if (r[3] && r[3] !== "active") { var s = document.createElement("div"); s.textContent = "Status: " + r[3]; el.appendChild(s); }
        if (r[2] && /^https?:\/\//i.test(r[2])) {
            var l = document.createElement("a");
            l.href = r[2]; l.target = "_blank"; l.rel = "noopener noreferrer";
            l.textContent = "Website";
            el.appendChild(l);
        }
        if (onDetails) { onDetails(); }
    });
    return el;
};
window.cgFocus = function (el) {
    if (!el) { return; }
    try { el.focus({preventScroll: true}); } catch (e) { el.focus(); }
};
window.cgActivates = function (e) {
    var k = e.originalEvent && (e.originalEvent.key || e.originalEvent.keyCode);
    if (k === "Enter" || k === 13 || k === " " || k === 32) { L.DomEvent.preventDefault(e.originalEvent); return true; }
    return false;
};
window.CgPoint = L.CircleMarker.extend({
    _updatePath: function () {
        var v = this.options.shape;
        if (!v || !this._renderer._setPath) { return L.CircleMarker.prototype._updatePath.call(this); }
        if (this._empty()) { this._renderer._setPath(this, "M0 0"); return; }
        var p = this._point, r = this._radius, d = "";
        for (var i = 0; i < v.length; i++) { d += (i ? "L" : "M") + (p.x + v[i][0] * r).toFixed(1) + " " + (p.y + v[i][1] * r).toFixed(1); }
        this._renderer._setPath(this, d + "z");
    },
    onAdd: function (map) {
        L.CircleMarker.prototype.onAdd.call(this, map);
        var el = this._path;
        if (el && el.setAttribute) {
            el.setAttribute("tabindex", "0");
            el.setAttribute("role", "button");
            el.setAttribute("aria-label", this.cgName + ", " + this.cgType);
        }
    }
});
window.CgClusterIconClass = L.DivIcon.extend({
    createIcon: function (old) {
        var div = L.DivIcon.prototype.createIcon.call(this, old);
        div.setAttribute("aria-label", this.options.label);
        return div;
    }
});
// A cluster's icon: its count, ringed by the colours of its types in proportion; named in words.
// ``parts``: [{n, label, colour}] in the types' order.
window.cgClusterIcon = function (n, parts) {
    var stops = [], acc = 0;
    parts.forEach(function (p) {
        stops.push(p.colour + " " + (acc * 360 / n).toFixed(1) + "deg " + ((acc + p.n) * 360 / n).toFixed(1) + "deg");
        acc += p.n;
    });
    var words = parts.map(function (p) { return p.label + " " + p.n; }).join(", ");
    return new window.CgClusterIconClass({
        html: "<div style='background:conic-gradient(" + stops.join(",") + ")'><span>" + n + "</span></div>",
        className: "marker-cluster cg-cluster", iconSize: new L.Point(32, 32),
        label: n + " places: " + words + ". Enter zooms in."
    });
};
// A drawn cluster: a focusable marker that knows its count and its types.
window.CgCluster = L.Marker.extend({
    getChildCount: function () { return this.cgCount; }
});
window.cgTipText = function (layer) {
    if (layer instanceof window.CgCluster) {
        return layer.cgCount + " places: " + layer.cgParts.map(function (p) { return p.label + " " + p.n; }).join(", ");
    }
    return layer.cgName !== undefined ? layer.cgName + " (" + layer.cgType + ")" : null;
};
window.cgShowTip = function (layer) {
    var text = window.cgTipText(layer);
    if (text === null) { return; }
    var s = document.createElement("span");
    s.textContent = text;
    layer.bindTooltip(s).openTooltip();
};
window.cgOpenPopup = function (map, layer, byKey) {
    var popup = null;
    var content = window.cgPopup(layer, function () {
        // the details arrived after the popup opened: it grew, so lay it out and show it whole
        if (!popup || !map.hasLayer(popup)) { return; }
        var focused = content.contains(document.activeElement);  // update() re-inserts the content
        popup.update();
        window.cgUnobscure(map, popup.getElement());
        if (focused) { window.cgFocus(content); }
    });
    content.setAttribute("tabindex", "-1");
    content.setAttribute("role", "group");
    content.setAttribute("aria-label", "Details of " + layer.cgName);
    popup = L.popup({maxWidth: 320, autoPan: false}).setLatLng(layer.getLatLng()).setContent(content);
    popup.cgSource = layer;
    popup.cgByKey = !!byKey;
    popup.openOn(map);
    if (window.cgUnobscure) { window.cgUnobscure(map, popup.getElement()); }
    if (byKey) { window.cgFocus(content); }
};

// Supercluster's load() (vendored 9.1.0, geo/web/js/supercluster.min.js) in steps: the points into
// its first tree, then one zoom after another, each step a task of its own about STEP_MS long, so the
// page never waits long (one load() of England's 29,000 points held the main thread 300-490 ms, a
// step at most one zoom's 75 ms). The same arrays and trees as load() makes (a browser test compares
// every zoom); ``ids`` are the points (indices into ``lng``/``lat``) to index, each leaf's feature id.
// ``live()`` false stops it (a later change began another). Uses the index's own _createTree and
// _cluster; if a later Supercluster has none, load() does it in one go.
window.cgIndexInSteps = function (index, lng, lat, ids, done, live) {
    var n = ids.length, o = index.options, minZoom = o.minZoom, maxZoom = o.maxZoom;
    if (typeof index._cluster !== "function" || typeof index._createTree !== "function" || index.stride !== 6 || o.reduce) {
        var feats = [];
        for (var f = 0; f < n; f++) { feats.push({type: "Feature", id: ids[f], properties: null, geometry: {type: "Point", coordinates: [lng[ids[f]], lat[ids[f]]]}}); }
        index.load(feats); done(); return;
    }
    var STEP_MS = 30, SCALE = 0x40000000, stride = 6, notProcessed = maxZoom + 1;
    var data = new Int32Array(n * stride), coords = index.coords = new Float64Array(n * 2);
    index.numPoints = n; index.props = new Array(n).fill(null); index.ids = Array.from(ids);
    var k = 0, z = maxZoom, prev = data, prevNum = n, recycled = null;
    function step() {
        if (live && !live()) { return; }
        var t0 = performance.now();
        while (k < n) {  // the points, as load() encodes them (mercator in [0, 1], then Int32)
            var i = ids[k], px = lng[i] / 360 + 0.5, sin = Math.sin(lat[i] * Math.PI / 180);
            var py = 0.5 - 0.25 * Math.log((1 + sin) / (1 - sin)) / Math.PI, w = k * stride;
            py = py < 0 ? 0 : py > 1 ? 1 : py;
            coords[2 * k] = px; coords[2 * k + 1] = py;
            data[w] = (px - 0.5) * SCALE; data[w + 1] = (py - 0.5) * SCALE;
            data[w + 2] = notProcessed; data[w + 3] = k; data[w + 4] = -1; data[w + 5] = 1;
            k++;
            if ((k & 4095) === 0 && performance.now() - t0 > STEP_MS) { setTimeout(step, 0); return; }
        }
        if (!index.trees[maxZoom + 1]) {
            index.trees[maxZoom + 1] = index._createTree(data, n);
            setTimeout(step, 0); return;
        }
        while (z >= minZoom) {  // cluster the zoom below on the last one's results, as load() does
            var out = recycled || new Int32Array(prevNum * stride);
            recycled = null;
            var written = index._cluster(prev, prevNum, z, out);
            if (written === prevNum) { index.trees[z] = index.trees[z + 1]; recycled = out; }
            else { index.trees[z] = index._createTree(out, written); prev = out; prevNum = written; }
            z--;
            if (z >= minZoom && performance.now() - t0 > STEP_MS) { setTimeout(step, 0); return; }
        }
        done();
    }
    step();
};
// Each cluster's places by type, for every cluster at every zoom of a built index, in one pass down
// the zooms: a cluster made at zoom z holds the points and clusters of zoom z + 1 that name it their
// parent. ``typeOf(k)`` is the type of the k-th point indexed (of ``nTypes``). A cluster's ring of
// type colours then costs nothing to draw: gathering the leaves of every cluster in view took about
// 100 ms of the first draw of England's map. Returns a Map (cluster id -> Uint32Array of counts), or
// null if the index is not laid out as Supercluster 8-9 lays it (its callers then count leaves).
window.cgClusterCounts = function (index, typeOf, nTypes) {
    var o = index.options, stride = index.stride, top = index.trees[o.maxZoom + 1], counts = new Map();
    if (stride !== 6 || !top || !top.data || typeof top.numItems !== "number") { return null; }
    for (var z = o.maxZoom; z >= o.minZoom; z--) {
        var below = index.trees[z + 1];
        if (index.trees[z] === below) { continue; }  // nothing merged at z: no parents to follow
        var data = below.data, n = below.numItems;
        for (var j = 0; j < n; j++) {
            var w = j * stride, parent = data[w + 4];  // [x, y, zoom, id, parent, number of points]
            if (parent < 0) { continue; }
            var acc = counts.get(parent);
            if (!acc) { acc = new Uint32Array(nTypes); counts.set(parent, acc); }
            if (data[w + 5] === 1) { acc[typeOf(data[w + 3])]++; continue; }
            var sub = counts.get(data[w + 3]);
            if (!sub) { return null; }  // a cluster not met on its own zoom: not the layout expected
            for (var t = 0; t < nTypes; t++) { acc[t] += sub[t]; }
        }
    }
    return counts;
};
/* Every asset point of a map, clustered (CgClusterLayer). The points are plain arrays (cgFill) and
 * a Supercluster index (vendored, ISC) over those shown: the types switched on in the layer list and
 * the page's filters (CgTypeLayer's mask). Only what is in and around the view is drawn, as
 * clusters (CgCluster) and points (CgPoint, made the first time they are drawn and kept): a move
 * or zoom draws again, a filter indexes again. Building the index takes tens of milliseconds for
 * England's 29,000 points, where Leaflet.markercluster needed 1-2 s of main thread to make a
 * marker per point and cluster them at every zoom (README, issue 14).
 *
 * A cluster's click (or Enter) zooms to where it splits; one that never splits (places at the same
 * spot, at the deepest zoom) spreads its points round it (spiderfies). From the keyboard the focus
 * then moves to what shows the first of its places. Clicks, keys and hovers on what is drawn reach
 * this layer (a FeatureGroup) with ``e.layer``. */
window.CgClusterLayer = L.FeatureGroup.extend({
    options: {radius: 50},
    initialize: function (options) {
        L.FeatureGroup.prototype.initialize.call(this, [], options);
        this._cgTypes = [];
        this._n = 0;            // points in the payload
        this._index = null;     // Supercluster over the points shown
        this._shown = null;     // their indices (Int32Array)
        this._markers = [];     // CgPoint by index, made when first drawn
        this._drawn = {};       // key ("c" + cluster id, or "p" + index) -> layer now on the map
        this._pending = true;   // no data yet, or an index to build
        this._spider = null;
        this._focusAfter = -1;
        this._leafCache = {};
        this._counts = null;    // cluster id -> places by type (cgClusterCounts)
        this.on("click", function (e) {
            if (e.layer instanceof window.CgCluster) { this._openCluster(e.layer, false); }
            else if (e.layer.cgIdx !== undefined) { window.cgOpenPopup(this._map, e.layer, false); }
        }, this);
        this.on("keypress", function (e) {
            if (!window.cgActivates(e)) { return; }
            if (e.layer instanceof window.CgCluster) { this._openCluster(e.layer, true); }
            else if (e.layer.cgIdx !== undefined) { window.cgOpenPopup(this._map, e.layer, true); }
        }, this);
        this.on("mouseover", function (e) { window.cgShowTip(e.layer); });
    },
    onAdd: function (map) {
        L.FeatureGroup.prototype.onAdd.call(this, map);
        if (!this._index && !this._failed && !this._note) {
            // Until the first index is drawn, the map says its places are on their way (a status,
            // read out politely), then takes the note away.
            var note = this._note = L.control({position: "topright"});
            note.onAdd = function () {
                var div = L.DomUtil.create("div", "cg-loading");
                div.setAttribute("role", "status");
                div.textContent = "Loading the map's places\u2026";
                return div;
            };
            note.addTo(map);
        }
        map.on("moveend", this._draw, this);
        map.on("zoomstart", this._unspiderfy, this);
        map.on("click", this._unspiderfy, this);
        this._schedule();
    },
    onRemove: function (map) {
        map.off("moveend", this._draw, this);
        map.off("zoomstart", this._unspiderfy, this);
        map.off("click", this._unspiderfy, this);
        this._unspiderfy();
        L.FeatureGroup.prototype.onRemove.call(this, map);
    },
    // The payload's points (see cgFill): coordinates, names and each one's type.
    setPoints: function (pts) {
        this._p = pts; this._n = pts.lat.length; this._markers = new Array(this._n);
        this._schedule();
    },
    _dropNote: function () {
        if (this._note) { this._note.remove(); this._note = null; }
    },
    cgTotal: function () { return this._n; },
    // True while the points are not in yet or an index is waiting to be built.
    cgBusy: function () { return this._pending; },
    // How many points the index holds (every point shown by the types and filters).
    cgCount: function () { return this._index && !this._pending ? this._shown.length : 0; },
    // Every shown point as its CgPoint (made now where not yet drawn), as MarkerClusterGroup gave.
    getLayers: function () {
        var out = [];
        if (this._shown) { for (var k = 0; k < this._shown.length; k++) { out.push(this._point(this._shown[k])); } }
        return out;
    },
    _schedule: function () {
        if (this._failed) { return; }
        this._pending = true;
        if (this._timer) { return; }
        var self = this;
        this._timer = setTimeout(function () { self._timer = null; self._build(); }, 0);
    },
    _build: function () {
        var p = this._p, map = this._map, self = this;
        if (!p || !map) { return; }
        var shown = [];
        this._cgTypes.forEach(function (t) {
            if (!t._map || t._from === undefined) { return; }
            var mask = t._mask;
            for (var i = t._from; i < t._to; i++) { if (!mask || mask[i]) { shown.push(i); } }
        });
        shown = Int32Array.from(shown);
        var index = new Supercluster({radius: this.options.radius, extent: 256, minZoom: 0, maxZoom: Math.ceil(map.getMaxZoom())});
        var build = this._building = {};
        window.cgIndexInSteps(index, p.lng, p.lat, shown, function () {
            if (self._building !== build) { return; }  // a later change started another
            self._building = null;
            self._index = index;
            self._shown = shown;
            self._leafCache = {};
            self._counts = window.cgClusterCounts(index, function (k) { return p.type[shown[k]]; }, p.labels.length);
            self._pending = false;
            self.cgBuilds = (self.cgBuilds || 0) + 1;
            self._dropNote();
            self._draw(true);
            self.fire("cgindexed");
        }, function () { return self._building === build; });
    },
    // Leaves of a cluster (their point indices), kept until the next index.
    _leaves: function (id) {
        var c = this._leafCache[id];
        if (!c) {
            c = this._leafCache[id] = this._index.getLeaves(id, Infinity).map(function (f) { return f.id; });
        }
        return c;
    },
    // A cluster's places by type, in type order: [{n, label, colour}, ...] (its ring and its name).
    _partsOf: function (id) {
        var acc = this._counts && this._counts.get(id), p = this._p, out = [];
        if (!acc) { return this._parts(this._leaves(id)); }
        for (var g = 0; g < acc.length; g++) { if (acc[g]) { out.push({n: acc[g], label: p.labels[g], colour: p.colours[g]}); } }
        return out;
    },
    _parts: function (ids) {
        var p = this._p, by = {}, order = [];
        for (var k = 0; k < ids.length; k++) {
            var g = p.type[ids[k]];
            if (!(g in by)) { by[g] = {n: 0, label: p.labels[g], colour: p.colours[g]}; order.push(g); }
            by[g].n++;
        }
        order.sort(function (a, b) { return a - b; });
        return order.map(function (g) { return by[g]; });
    },
    _point: function (i) {
        var m = this._markers[i];
        if (!m) {
            var p = this._p, g = p.type[i], style = window.cgPointStyle;
            m = this._markers[i] = new window.CgPoint([p.lat[i], p.lng[i]], {
                radius: style.radius, color: style.color, weight: 1.5, fillColor: p.colours[g], fillOpacity: 1,
                shape: p.shapes[g], className: "cg-pt", bubblingMouseEvents: false  // a click here is not the map's
            });
            m.cgName = p.names[i]; m.cgType = p.labels[g]; m.cgIdx = i; m.cgT = g;
        }
        return m;
    },
    _cluster: function (f) {
        var id = f.properties.cluster_id, n = f.properties.point_count, parts = this._partsOf(id);
        var c = new window.CgCluster([f.geometry.coordinates[1], f.geometry.coordinates[0]],
                                     {icon: window.cgClusterIcon(n, parts), keyboard: true, bubblingMouseEvents: false});
        c.cgId = id; c.cgCount = n; c.cgParts = parts;
        return c;
    },
    // Draw what is in and around the view at this zoom: keep what stays, add and take away the rest.
    _draw: function (fresh) {
        var map = this._map;
        if (!map || !this._index || this._pending) { return; }
        if (fresh === true) {
            this._unspiderfy();  // a new index: its cluster ids are new (points keep theirs, and their focus)
            for (var key0 in this._drawn) {
                if (key0.charAt(0) === "c") { this.removeLayer(this._drawn[key0]); delete this._drawn[key0]; }
            }
        }
        var b = map.getBounds().pad(0.5), z = Math.round(map.getZoom());
        var box = [Math.max(-180, b.getWest()), Math.max(-85, b.getSouth()), Math.min(180, b.getEast()), Math.min(85, b.getNorth())];
        var items = this._index.getClusters(box, z), want = {}, add = [];
        for (var k = 0; k < items.length; k++) {
            var f = items[k], key = f.properties && f.properties.cluster ? "c" + f.properties.cluster_id : "p" + f.id;
            want[key] = true;
            if (!this._drawn[key]) { add.push([key, f]); }
        }
        // A spread-out cluster stays spread while it is still drawn (a popup's pan keeps it open).
        if (this._spider && !want["c" + this._spider.cluster.cgId]) { this._unspiderfy(); }
        for (var old in this._drawn) {
            if (!want[old]) { this.removeLayer(this._drawn[old]); delete this._drawn[old]; }
        }
        for (var a = 0; a < add.length; a++) {
            var fa = add[a][1];
            var layer = add[a][0].charAt(0) === "c" ? this._cluster(fa) : this._point(fa.id);
            this._drawn[add[a][0]] = layer;
            this.addLayer(layer);
        }
        if (this._focusAfter >= 0) { var i = this._focusAfter; this._focusAfter = -1; this._focusPlace(i); }
        this.fire("cgdrawn");
    },
    // What now shows the point ``i``: its own marker, or the drawn cluster that holds it.
    _shownAs: function (i) {
        var m = this._markers[i];
        if (m && this.hasLayer(m)) { return m; }
        for (var key in this._drawn) {
            var l = this._drawn[key];
            if (l instanceof window.CgCluster && this._leaves(l.cgId).indexOf(i) >= 0) { return l; }
        }
        return null;
    },
    _focusPlace: function (i) {
        var l = this._shownAs(i), el = l && (l._path || l._icon);
        if (el && el.isConnected) { window.cgFocus(el); }
    },
    _openCluster: function (c, byKey) {
        var map = this._map, leaves = this._leaves(c.cgId), z = this._index.getClusterExpansionZoom(c.cgId);
        if (z > map.getMaxZoom() || map.getZoom() >= map.getMaxZoom()) { this._spiderfy(c, byKey); return; }
        var p = this._p, bounds = L.latLngBounds([]);
        for (var k = 0; k < leaves.length; k++) { bounds.extend([p.lat[leaves[k]], p.lng[leaves[k]]]); }
        if (byKey) { this._focusAfter = leaves[0]; }
        map.setView(bounds.getCenter(), Math.max(z, Math.round(map.getZoom()) + 1));
    },
    // Places that stay together at the deepest zoom, spread round their cluster on legs.
    _spiderfy: function (c, byKey) {
        this._unspiderfy();
        var map = this._map, ids = this._leaves(c.cgId), n = ids.length, centre = map.latLngToLayerPoint(c.getLatLng());
        var spots = [], k;
        if (n <= 8) {
            var legs = 25 * (2 + n) / (2 * Math.PI);
            for (k = 0; k < n; k++) {
                var a = k * 2 * Math.PI / n + Math.PI / 6;
                spots.push(centre.add([legs * Math.cos(a), legs * Math.sin(a)]));
            }
        } else {
            var leg = 11, angle = 0;
            for (k = n; k >= 0; k--) {
                if (k < n) { spots[k] = centre.add([leg * Math.cos(angle), leg * Math.sin(angle)]); }
                angle += 28 / leg + k * 0.0005;
                leg += 2 * Math.PI * 5 / angle;
            }
        }
        var lines = L.layerGroup(), points = [];
        this.removeLayer(c);
        for (k = 0; k < n; k++) {
            var m = this._point(ids[k]), at = map.layerPointToLatLng(spots[k]);
            m.cgHome = m.getLatLng();
            L.polyline([c.getLatLng(), at], {color: "#1f1f1f", weight: 1.5, opacity: 0.6, interactive: false}).addTo(lines);
            m.setLatLng(at);
            points.push(m);
        }
        lines.addTo(map);
        points.forEach(function (m) { this.addLayer(m); }, this);
        this._spider = {cluster: c, points: points, lines: lines};
        if (byKey && points.length) { window.cgFocus(points[0]._path); }
    },
    _unspiderfy: function () {
        var s = this._spider;
        if (!s) { return; }
        this._spider = null;
        s.points.forEach(function (m) {
            this.removeLayer(m);
            if (m.cgHome) { m.setLatLng(m.cgHome); m.cgHome = null; }
        }, this);
        if (this._map) { this._map.removeLayer(s.lines); }
        var key = "c" + s.cluster.cgId;
        if (this._drawn[key] === s.cluster) { this.addLayer(s.cluster); }
    },
    // Zoom until the point ``m`` shows on its own (spread out, if it shares its spot), then ``done``.
    zoomToShowLayer: function (m, done) {
        var map = this._map, self = this, i = m.cgIdx, ll = m.cgHome || m.getLatLng(), zoom = null;
        var eps = 1e-7, box = [ll.lng - eps, ll.lat - eps, ll.lng + eps, ll.lat + eps];
        for (var z = Math.round(map.getZoom()); z <= map.getMaxZoom(); z++) {
            var hit = this._index.getClusters(box, z).some(function (f) { return f.id === i && !(f.properties && f.properties.cluster); });
            if (hit) { zoom = z; break; }
        }
        function then() {
            if (zoom === null) {
                var c = self._shownAs(i);
                if (c instanceof window.CgCluster) { self._spiderfy(c, false); }
            }
            if (done) { done(); }
        }
        var target = zoom === null ? map.getMaxZoom() : zoom;
        if (map.getZoom() === target && map.getBounds().contains(ll)) { then(); return; }
        this.once("cgdrawn", then);
        map.setView(ll, target);
    }
});
window.cgClusters = function () { return new window.CgClusterLayer(); };
window.CgTypeLayer = L.Layer.extend({
    // One type's points (``_from`` to ``_to`` in the payload) in the shared CgClusterLayer, listed in
    // the layer control. ``_mask`` (null: all) says which points the page's filters show (by index);
    // geo.web.mapview changes it in place, without redrawing the map.
    initialize: function (clusters) {
        this._clusters = clusters; this._mask = null;
        clusters._cgTypes.push(this);
    },
    setMask: function (mask) {
        var old = this._mask, same = old === mask;
        if (!same && this._from !== undefined) {  // null shows all: a mask of all ones is the same
            same = true;
            for (var i = this._from; i < this._to; i++) { if (!(old && !old[i]) !== !(mask && !mask[i])) { same = false; break; } }
        }
        this._mask = mask;
        if (!same) { this._clusters._schedule(); }  // a view that leaves this type's points as they were costs nothing
        return this;
    },
    count: function () { return this._from === undefined ? 0 : this._to - this._from; },
    onAdd: function () { this._clusters._schedule(); },
    onRemove: function () { this._clusters._schedule(); }
});
L.Control.Layers.addInitHook(function () { (window.cgLayerControls = window.cgLayerControls || []).push(this); });
// Every point of the payload (geo.web.maps.encode_points) into plain arrays, each type's share into
// its layer; the cluster layer then indexes those shown. ``done`` runs once they are drawn.
// ``clusters``: the cluster layer (else the groups'), told even when no type has a point.
window.cgFill = function (groups, d, done, clusters) {
    var n = d.x.length, lat = new Float64Array(n), lng = new Float64Array(n), type = new Uint16Array(n);
    var shapes = [], y = 0, i = 0;
    clusters = clusters || (groups.length ? groups[0]._clusters : null);
    for (var g = 0; g < groups.length; g++) {
        groups[g]._from = i;
        for (var j = 0; j < d.c[g]; j++, i++) {
            y += d.y[i];
            lat[i] = d.y0 + y / d.q; lng[i] = d.x0 + d.x[i] / d.q; type[i] = g;
        }
        groups[g]._to = i;
        shapes.push(d.s[d.h[g]] || null);
    }
    if (!clusters) { if (done) { done(); } return; }
    if (done) { clusters.once("cgdrawn", function () { done(); }); }
    clusters.setPoints({lat: lat, lng: lng, type: type, names: d.n, labels: d.t, colours: d.k, shapes: shapes});
};
// The same from a URL (geo.web.maps.AssetPoints with a url): the payload is a file of its own, fetched
// while the rest of the map is set up. The cluster layer is busy until its points are in, so a view
// that arrives first waits for them (cgApplyView). If the file cannot be had, the map says so.
window.cgFillFrom = function (url, groups, done, clusters) {
    clusters = clusters || (groups.length ? groups[0]._clusters : null);
    var early = window.cgEarly && window.cgEarly[url];  // already asked for (cg-prefetch.js)
    if (early) { delete window.cgEarly[url]; }
    (early || fetch(url, {credentials: "same-origin"}))
        .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
        .then(function (d) { window.d = d; window.cgFill(groups, d, done, clusters); })
        .catch(function (e) {
            var map = clusters && clusters._map;
            if (clusters) { clusters._failed = true; clusters._pending = false; clusters._dropNote(); }
            if (map) {
                var note = L.control({position: "topright"});
                note.onAdd = function () {
                    var div = L.DomUtil.create("div", "cg-load-error");
                    div.setAttribute("role", "alert");
                    div.textContent = "The map's places could not be loaded (" + e.message + "). Reload the page; the table beside the map lists them.";
                    return div;
                };
                note.addTo(map);
            }
        });
};
