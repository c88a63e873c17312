/* The map's asset points (geo.web.maps.AssetScripts): the popup details (cgDetails), a popup built
 * with textContent (cgPopup), a focusable point of any marker shape (CgPoint), a cluster showing its
 * types as a ring and named in words (cgClusterIcon), one type's points in the shared cluster group
 * (CgTypeLayer) and cgFill, which builds the points in slices. Served by the app (geo.web.webassets)
 * or inlined into a standalone map; the map's own script only gives data and calls these.
 *
 * Keyboard: every point and cluster is in the tab order with a name; Enter or Space on a cluster
 * zooms in to it and focuses the first place that was in it; on a point it opens the popup and
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
window.cgClusterLabel = function (cluster) {
    var ms = cluster.getAllChildMarkers(), by = {}, order = [];
    for (var i = 0; i < ms.length; i++) {
        var m = ms[i];
        if (!(m.cgT in by)) { by[m.cgT] = {n: 0, label: m.cgType, colour: m.options.fillColor}; order.push(m.cgT); }
        by[m.cgT].n++;
    }
    order.sort(function (a, b) { return a - b; });
    return order.map(function (t) { return by[t]; });
};
window.cgClusterIcon = function (cluster) {
    var n = cluster.getChildCount(), parts = window.cgClusterLabel(cluster), stops = [], acc = 0;
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
window.cgTipText = function (layer) {
    if (layer instanceof L.MarkerCluster) {
        return layer.getChildCount() + " places: " + window.cgClusterLabel(layer).map(function (p) { return p.label + " " + p.n; }).join(", ");
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
window.cgFocusFirst = function (group, markers) {
    // After a cluster opened from the keyboard: once the zoom or spread has settled, focus
    // what now shows the first of its places (a point, or a smaller cluster).
    var map = group._map, frames = 0;
    function step() {
        frames++;
        if (map && (map._animatingZoom || group._inZoomAnimation) && frames < 240) { requestAnimationFrame(step); return; }
        for (var i = 0; i < markers.length; i++) {
            var m = markers[i], el = m._path && m._path.isConnected ? m._path : null;
            if (!el) { var vp = group.getVisibleParent(m); el = vp && vp._icon; }
            if (el && el.isConnected) { window.cgFocus(el); return; }
        }
        if (frames < 240) { requestAnimationFrame(step); } else if (map) { window.cgFocus(map.getContainer()); }
    }
    requestAnimationFrame(step);
};
// Chunks of 50 ms, 1 ms apart: each chunk is its own task (the page never waits long), and the
// pause is the shortest that still lets input and drawing in (10 ms apart left 0.2-0.3 s idle over
// a national store's 29,000 points, README, issue 14).
window.cgClusters = function () {
    var group = L.markerClusterGroup({
        chunkedLoading: true, chunkInterval: 50, chunkDelay: 1, showCoverageOnHover: false, maxClusterRadius: 50,
        iconCreateFunction: window.cgClusterIcon
    });
    group.on("click", function (e) { window.cgOpenPopup(e.target._map, e.layer, false); });
    group.on("keypress", function (e) {
        if (window.cgActivates(e)) { window.cgOpenPopup(e.target._map, e.layer, true); }
    });
    group.on("clusterkeypress", function (e) {
        if (!window.cgActivates(e)) { return; }
        var markers = e.layer.getAllChildMarkers();
        group._zoomOrSpiderfy({layer: e.layer, originalEvent: null});
        window.cgFocusFirst(group, markers);
    });
    group.on("mouseover clustermouseover", function (e) { window.cgShowTip(e.layer); });
    return group;
};
window.CgTypeLayer = L.Layer.extend({
    // One type's points. ``_mask`` (null: all) says which points the page's filters show
    // (by ``cgIdx``); :func:`geo.web.mapview` changes it in place, without redrawing the map.
    initialize: function (clusters) {
        this._clusters = clusters; this._points = []; this._mask = null;
        (clusters._cgTypes = clusters._cgTypes || []).push(this);
    },
    _shown: function () {
        var mask = this._mask;
        return mask ? this._points.filter(function (p) { return mask[p.cgIdx]; }) : this._points;
    },
    addLayers: function (points) {
        this._points = this._points.concat(points);
        var mask = this._mask, shown = mask ? points.filter(function (p) { return mask[p.cgIdx]; }) : points;
        if (this._map) { this._clusters.addLayers(shown); }
        return this;
    },
    setMask: function (mask) {
        var old = this._mask, add = [], drop = [];
        for (var i = 0; i < this._points.length; i++) {
            var p = this._points[i], was = !old || old[p.cgIdx], now = !mask || mask[p.cgIdx];
            if (was && !now) { drop.push(p); } else if (now && !was) { add.push(p); }
        }
        this._mask = mask;
        if (this._map) {
            if (drop.length) { this._clusters.removeLayers(drop); }
            if (add.length) { this._clusters.addLayers(add); }
        }
        return this;
    },
    getLayers: function () { return this._shown().slice(); },
    onAdd: function () { this._clusters.addLayers(this._shown()); },
    onRemove: function () { this._clusters.removeLayers(this._shown()); }
});
L.Control.Layers.addInitHook(function () { (window.cgLayerControls = window.cgLayerControls || []).push(this); });
// Every point of the payload (geo.web.maps.encode_points) into its type's layer, built in slices
// of about SLICE_MS so the page never blocks for long (29,500 points took 0.9-1.8 s in one loop);
// markercluster then adds each slice in its own chunks (chunkedLoading). ``done`` runs at the end.
window.cgFill = function (groups, d, done) {
    var SLICE_MS = 25, g = 0, j = 0, i = 0, y = 0, style = window.cgPointStyle;
    // Until the last slice, the layers are still filling: cgApplyView waits (a zoom while the cluster
    // group is being filled leaves it without icons).
    groups.forEach(function (group) { group._cgFilling = true; });
    function finish() {
        groups.forEach(function (group) { group._cgFilling = false; });
        if (done) { done(); }
    }
    function slice() {
        var t0 = performance.now();
        while (g < groups.length) {
            var group = groups[g], n = d.c[g], colour = d.k[g], label = d.t[g], shape = d.s[d.h[g]] || null;
            var points = [], full = false;
            while (j < n) {
                y += d.y[i];
                var m = new window.CgPoint([d.y0 + y / d.q, d.x0 + d.x[i] / d.q], {
                    radius: style.radius, color: style.color, weight: 1.5, fillColor: colour, fillOpacity: 1,
                    shape: shape, className: "cg-pt"
                });
                m.cgName = d.n[i]; m.cgType = label; m.cgIdx = i; m.cgT = g;
                points.push(m);
                j++; i++;
                if ((j & 255) === 0 && performance.now() - t0 > SLICE_MS) { full = true; break; }
            }
            if (points.length) { group.addLayers(points); }
            if (j >= n) { g++; j = 0; }
            if (full || performance.now() - t0 > SLICE_MS) { break; }
        }
        if (g < groups.length) { setTimeout(slice, 0); } else { finish(); }
    }
    setTimeout(slice, 0);  // not in the task that runs the map's script
};
// The same from a URL (geo.web.maps.AssetPoints with a url): the payload is a file of its own, fetched
// while the rest of the map is set up. The layers count as filling from the start, so a view that
// arrives first waits for the points (cgApplyView). If the file cannot be had, the map says so.
window.cgFillFrom = function (url, groups, done) {
    groups.forEach(function (group) { group._cgFilling = true; });
    fetch(url, {credentials: "same-origin"})
        .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
        .then(function (d) { window.d = d; window.cgFill(groups, d, done); })
        .catch(function (e) {
            groups.forEach(function (group) { group._cgFilling = false; });
            var map = groups.length && groups[0]._clusters && groups[0]._clusters._map;
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
