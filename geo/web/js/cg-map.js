/* What every Common Ground map does in the browser (geo.web.maps and geo.web.mapview): keyboard and
 * screen-reader access (cgMapAccess), no page jump on the first click (cgFocusWithoutScroll), framing
 * on its subject in the map's real size (cgFitToContent), the legend (cgLegend), assets' outlines
 * from close zooms (cgOutlines), and a page's view applied in place (cgApplyView, cgViewOf).
 * Served by the app (geo.web.webassets) or inlined into a standalone map; the map's own script only
 * gives data and calls these. */
window.cgFocusWithoutScroll = function (map) {
    var kb = map.keyboard;
    if (!kb || !kb._onMouseDown) { return; }
    L.DomEvent.off(map._container, "mousedown", kb._onMouseDown, kb);
    kb._onMouseDown = function () {
        if (this._focused) { return; }
        try { this._map._container.focus({preventScroll: true}); } catch (e) { this._map._container.focus(); }
    };
    L.DomEvent.on(map._container, "mousedown", kb._onMouseDown, kb);
};

window.cgUnobscure = function (map, el) {
    // Focus not obscured (2.4.11): move the map, without animation and as little as it can,
    // so that ``el`` (a focused place, or a popup) is inside the map and under no control
    // (the legend, the layer list, the zoom buttons, the attribution).
    if (!el || !el.getBoundingClientRect) { return; }
    var c = map.getContainer(), cr = c.getBoundingClientRect(), r = el.getBoundingClientRect(), m = 6;
    var x = 0, y = 0;
    if (r.left < cr.left + m) { x = cr.left + m - r.left; } else if (r.right > cr.right - m) { x = cr.right - m - r.right; }
    if (r.top < cr.top + m) { y = cr.top + m - r.top; } else if (r.bottom > cr.bottom - m) { y = cr.bottom - m - r.bottom; }
    c.querySelectorAll(".leaflet-control").forEach(function (ctl) {
        var k = ctl.getBoundingClientRect(), b = {l: r.left + x, r: r.right + x, t: r.top + y, b: r.bottom + y};
        if (!k.width || !k.height || b.l >= k.right || b.r <= k.left || b.t >= k.bottom || b.b <= k.top) { return; }
        var moves = [[k.left - m - b.r, 0], [k.right + m - b.l, 0], [0, k.top - m - b.b], [0, k.bottom + m - b.t]]
            .filter(function (v) {
                return b.l + v[0] >= cr.left && b.r + v[0] <= cr.right && b.t + v[1] >= cr.top && b.b + v[1] <= cr.bottom;
            })
            .sort(function (p, q) { return Math.abs(p[0]) + Math.abs(p[1]) - Math.abs(q[0]) - Math.abs(q[1]); });
        if (moves.length) { x += moves[0][0]; y += moves[0][1]; }
    });
    if (x || y) { map.panBy([-x, -y], {animate: false}); }
};
window.cgMapAccess = function (map, title, help) {
    var c = map.getContainer();
    document.title = title;
    try { if (window.frameElement) { window.frameElement.setAttribute("aria-label", title); window.frameElement.setAttribute("title", title); } } catch (e) {}
    document.querySelectorAll("meta[name=viewport]").forEach(function (m) {
        m.setAttribute("content", "width=device-width, initial-scale=1.0");
    });
    c.setAttribute("role", "region");
    c.setAttribute("aria-roledescription", "map");
    c.setAttribute("aria-label", title);
    var keys = L.control({position: "topleft"});
    keys.onAdd = function () {
        var div = L.DomUtil.create("div", "cg-keys");
        div.id = "cg-keys-" + L.Util.stamp(map);
        div.textContent = help;
        return div;
    };
    keys.addTo(map);
    c.setAttribute("aria-describedby", "cg-keys-" + L.Util.stamp(map));
    // Leaflet makes every shape with a tooltip focusable (it listens for focus to show the
    // tooltip), so each area would be a nameless Tab stop before the places (345 of them
    // for LSOAs). Areas stay out of the Tab order; the table beside the map lists them.
    map.on("layeradd", function (e) {
        var l = e.layer;
        if (l._path && l._path.setAttribute && !(window.CgPoint && l instanceof window.CgPoint)) {
            l._path.setAttribute("tabindex", "-1");
        }
    });
    function layerOf(el) { return el && map._targets ? map._targets[el._leaflet_id] : null; }
    c.addEventListener("focusin", function (e) {
        var l = layerOf(e.target);
        if (!l || l === map) { return; }
        window.cgUnobscure(map, e.target);
        if (window.cgShowTip) { window.cgShowTip(l); }
    });
    c.addEventListener("focusout", function (e) {
        var l = layerOf(e.target);
        if (l && l !== map && l.closeTooltip) { l.closeTooltip(); }
    });
    c.addEventListener("keydown", function (e) {
        if ((e.key === "Escape" || e.keyCode === 27) && map._popup && map.hasLayer(map._popup)) {
            map.closePopup();
            L.DomEvent.stop(e);
        }
    });
    map.on("popupclose", function (e) {
        var p = e.popup, active = document.activeElement;
        var inside = p._container && active && p._container.contains(active);
        if (!(p.cgByKey || inside)) { return; }
        var src = p.cgSource, el = src && (src._path || src._icon);
        if (el && el.isConnected) { window.cgFocus ? window.cgFocus(el) : el.focus(); }
        else { try { c.focus({preventScroll: true}); } catch (err) { c.focus(); } }
    });
};

// LEGEND: the legend's estimated extent, open and folded (or null)
window.cgFitToContent = function (map, bounds, LEGEND) {
    var EDGE = 24;  // half a cluster icon (40 px) plus a margin: icons at the edge stay whole
    var touched = false, box = map.getContainer();
    ["mousedown", "touchstart", "wheel", "keydown"].forEach(function (ev) {
        box.addEventListener(ev, function () { touched = true; }, {capture: true, passive: true});
    });
    function corner() {  // the legend's extent from the bottom-right corner, in pixels
        var lg = box.querySelector(".cg-legend");
        if (!lg) {  // not on the map yet: its estimate (it folds on maps under 700 px wide)
            return LEGEND && (map.getSize().x < 700 ? LEGEND.folded : LEGEND.open);
        }
        if (lg.offsetParent === null) { return null; }
        var r = lg.getBoundingClientRect(), c = box.getBoundingClientRect();
        if (!r.width || !r.height) { return null; }
        return {w: c.right - r.left, h: c.bottom - r.top};
    }
    map.cgHomeBounds = L.latLngBounds(bounds);
    map.cgFitTo = function (bounds, opts) {
        var b = L.latLngBounds(bounds), size = map.getSize();
        map.cgTarget = b;
        if (!size.x || !size.y || !b.isValid()) { return; }
        var tl = L.point(EDGE, EDGE), best = L.point(EDGE, EDGE), zoom = -1, lg = corner();
        if (lg) {
            // Centred, when at its zoom the points stay clear of the legend; else a strip beside
            // the legend or above it (one that leaves under 120 px of map is no choice). The
            // closest zoom wins; on a tie, centred first, then the narrower strip.
            [L.point(EDGE, EDGE), L.point(lg.w + EDGE, EDGE), L.point(EDGE, lg.h + EDGE)].forEach(function (br, i) {
                var room = size.subtract(tl.add(br));
                if (room.x < 120 || room.y < 120) { return; }
                var z = map.getBoundsZoom(b, false, tl.add(br));
                if (i === 0) {
                    var px = map.project(b.getNorthEast(), z).subtract(map.project(b.getSouthWest(), z));
                    var right = (size.x + Math.abs(px.x)) / 2 + EDGE, bottom = (size.y + Math.abs(px.y)) / 2 + EDGE;
                    if (right > size.x - lg.w && bottom > size.y - lg.h) { return; }  // under the legend
                }
                if (z > zoom) { zoom = z; best = br; }
            });
        }
        map.fitBounds(b, L.extend({paddingTopLeft: tl, paddingBottomRight: best, maxZoom: 17, animate: false},
                                  opts || {}));
    };
    // Framed now, before the points are added (a zoom change while the cluster group is still
    // being filled leaves it without icons); again only if the map's size changes later.
    var fitted = map.getSize();
    map.cgFitTo(map.cgHomeBounds);
    map.on("resize", function () {
        var now = map.getSize();
        if (touched || !map.cgTarget || now.equals(fitted)) { return; }
        fitted = now;
        map.cgFitTo(map.cgTarget);
    });
};

window.cgLegend = function (map, html) {
    var control = L.control({position: "bottomright"});
    control.onAdd = function (map) {
        var div = L.DomUtil.create("div", "cg-legend");
        div.innerHTML = html;  // built by geo.web.maps.legend_body, every label neutralised
        if (map.getSize().x < 700) {
            // A phone's map, or one beside a table: the legend folds to one "Legend" line (a button
            // to open it), so that it never covers the points the map was framed on.
            var details = L.DomUtil.create("details", "", div), summary = L.DomUtil.create("summary", "", details);
            summary.textContent = "Legend";
            div.querySelector(".cg-legend-title").remove();
            details.appendChild(div.querySelector(".cg-legend-body"));
        }
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        return div;
    };
    return control.addTo(map);
};

window.cgOutlines = function (map, data, minZoom, name) {
    var layer = L.geoJSON(data, {
        style: function (f) {
            var line = f.geometry && /LineString/.test(f.geometry.type);
            return {color: f.properties.colour, weight: line ? 4 : 2, opacity: 0.9,
                    fillColor: f.properties.colour, fillOpacity: line ? 0 : 0.15};
        },
        onEachFeature: function (f, l) {
            var tip = document.createElement("span");
            tip.textContent = f.properties.name;
            l.bindTooltip(tip, {sticky: true});
            l.on("add", function () {
                var el = l.getElement && l.getElement();
                if (el) { el.setAttribute("tabindex", "-1"); el.setAttribute("aria-hidden", "true"); }
            });
        }
    });
    window[name] = layer;
    function show() {
        if (map.getZoom() >= minZoom) {
            if (!map.hasLayer(layer)) { layer.addTo(map); layer.bringToBack(); }
        } else if (map.hasLayer(layer)) {
            map.removeLayer(layer);
        }
    }
    map.on("zoomend", show);
    map.whenReady(show);
    return layer;
};

// What the areas' value is, in their tooltips (the second row of folium's GeoJsonTooltip, whose
// fields are the name, then the value): a shading changed in place renames it (or, with no
// shading, leaves it out). The title is set as text.
window.cgValueTitle = function (group, title) {
    group.cgValueTitle = title;
    var tip = group.getTooltip && group.getTooltip();
    if (!tip || group.cgTipWrapped || typeof tip._content !== "function") { return; }
    var original = tip._content;
    group.cgTipWrapped = true;
    tip.setContent(function (layer) {
        var div = original(layer), rows = div && div.querySelectorAll ? div.querySelectorAll("tr") : [];
        if (rows.length > 1) {
            if (group.cgValueTitle === null) { rows[1].remove(); }
            else { var th = rows[1].querySelector("th"); if (th) { th.textContent = group.cgValueTitle; } }
        }
        return div;
    });
};

window.cgApplyView = function (map, v) {
    var clusters = null, areas = [];
    map.eachLayer(function (l) {
        if (l._cgTypes) { clusters = l; }
        if (l.feature && l.feature.properties && l.feature.properties._i !== undefined) { areas.push(l); }
    });
    if (clusters) {
        // Points not in yet, or an index waiting to be built: try again shortly (the view's mask
        // needs the points, and its zoom the clusters).
        clearTimeout(map.cgRetry);
        if (clusters.cgBusy()) { map.cgRetry = setTimeout(function () { window.cgApplyView(map, v); }, 100); return; }
        var types = clusters._cgTypes, total = clusters.cgTotal(), mask = null;
        if (v.r) {
            mask = new Uint8Array(total);
            for (var k = 0; k < v.r.length; k++) {
                for (var j = v.r[k][0]; j < v.r[k][0] + v.r[k][1]; j++) { mask[j] = 1; }
            }
        }
        if (map._popup && map._popup.cgSource && mask && !mask[map._popup.cgSource.cgIdx]) { map.closePopup(); }
        types.forEach(function (t, i) {
            t.setMask(mask);
            (window.cgLayerControls || []).forEach(function (c) {
                var changed = false;
                (c._layers || []).forEach(function (e) { if (e.layer === t && v.n[i] !== undefined) { e.name = v.n[i]; changed = true; } });
                if (changed && c._map) { c._update(); }
            });
        });
    }
    if (v.f) {
        areas.forEach(function (a) {
            var p = a.feature.properties, i = p._i, g = null;
            if (v.f[i] === undefined) { return; }
            p._fill = v.f[i];
            if (v.o !== undefined) { p._opacity = v.o; }
            if (v.v) { p.value = v.v[i]; }
            for (var id in a._eventParents) { g = a._eventParents[id]; }
            if (g && g.options && g.options.style && !g.options.style.cgWrapped) {
                var base = g.options.style;
                g.options.style = function (f) {
                    var s = L.extend({}, base(f));
                    if (f.properties && f.properties._fill) { s.fillColor = f.properties._fill; }
                    if (f.properties && f.properties._opacity !== undefined) { s.fillOpacity = f.properties._opacity; }
                    return s;
                };
                g.options.style.cgWrapped = true;
            }
            if (g && v.a !== undefined) { window.cgValueTitle(g, v.a); }
            if (g && g.resetStyle) { g.resetStyle(a); } else { a.setStyle({fillColor: v.f[i]}); }
        });
    }
    var body = map.getContainer().querySelector(".cg-legend-body");
    if (body && v.l !== undefined) {
        body.innerHTML = v.l;
        var box = body.closest(".cg-legend");
        if (box) { box.style.display = v.l ? "" : "none"; }
    }
    if (v.t) {
        document.title = v.t;
        map.getContainer().setAttribute("aria-label", v.t);
        try { if (window.frameElement) { window.frameElement.setAttribute("aria-label", v.t); window.frameElement.setAttribute("title", v.t); } } catch (e) {}
    }
    // Zoom to what a search found, and back to the map's own frame when the search is cleared
    // (with geo.web.maps.FitToContent's cgFitTo where the map has it: it keeps the legend clear).
    if (map.cgHome === undefined) { map.cgHome = [map.getCenter(), map.getZoom()]; map.cgFit = null; }
    var fit = v.b ? JSON.stringify(v.b) : null;
    if (fit !== map.cgFit) {
        map.invalidateSize(false);
        if (map.cgFitTo) { map.cgFitTo(v.b || map.cgHomeBounds); }
        if (v.b && !map.getBounds().contains(L.latLngBounds(v.b))) {  // never leave what was found out of sight
            map.fitBounds(v.b, {padding: [24, 24], maxZoom: 16, animate: false});
        }
        else if (!map.cgFitTo && !v.b) { map.setView(map.cgHome[0], map.cgHome[1], {animate: false}); }
        map.cgFit = fit;
    }
    map.cgView = v;
};

window.cgViewOf = function (map, key) {
    window.cgMapKey = key;
    window.cgMap = map;
    // A map drawn (again) after the page sent its view: take the view the page left for it.
    try {
        var left = window.parent && window.parent.cgViews && window.parent.cgViews[window.cgMapKey];
        if (left) { setTimeout(function () { window.cgApplyView(window.cgMap, left); }, 0); }  // once laid out
    } catch (e) {}
};
