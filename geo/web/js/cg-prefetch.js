/* Common Ground: a map's points, asked for before the map's other scripts arrive.
 *
 * streamlit-folium's frame loads a map's scripts one after another, and the map's own script, which
 * names the points' file, runs only after them: a national map's 1 MB of points was asked for only
 * then, 100-160 ms after it could have been. This script is linked first (geo.web.maps.explorer_map,
 * with the file in its own URL, ``?u=``): it starts that fetch, and cgFillFrom (cg-points.js) takes
 * its answer instead of fetching again. */
(function () {
    var script = document.currentScript, url = null;
    try { url = script && new URL(script.src, location.href).searchParams.get("u"); } catch (e) { url = null; }
    if (!url) { return; }
    var early = window.cgEarly = window.cgEarly || {};
    early[url] = fetch(url, {credentials: "same-origin"});
    early[url].catch(function () {});  // cgFillFrom says so if it failed
})();
