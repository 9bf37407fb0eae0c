/* luna gallery: the page's behaviour. Its data is data.js (window.LUNA_GALLERY), loaded as
   a script because a page opened from file:// may not fetch() a file beside it.

   Every text from the photos' metadata (names, titles, descriptions, places) goes into the
   page as textContent, never as HTML, so a description holding "<script>" shows as text.
   Thousands of photos must not freeze a phone: the grid is built a chunk at a time as the
   bottom comes near (IntersectionObserver), and each thumbnail loads lazily. */
(function () {
  "use strict";

  var data = window.LUNA_GALLERY || { items: [] };
  var items = data.items;
  var CHUNK = 150; // tiles added at a time
  var grid = document.getElementById("grid");
  var more = document.getElementById("more");
  var viewer = document.getElementById("viewer");
  var stage = document.getElementById("stage");
  var caption = document.getElementById("caption");
  var shown = 0;
  var lastMonth = null;
  var current = -1;
  var map = null;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  var MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December"];

  // "2019-06-01T12:34:56+02:00" -> "2019-06-01 12:34": the local time the photo was taken,
  // as the file says it, never shifted to the viewer's time zone.
  function shortDate(text) {
    return text ? text.slice(0, 16).replace("T", " ") : "";
  }

  function monthOf(text) {
    if (!text || text.length < 7) return "Undated";
    var month = parseInt(text.slice(5, 7), 10);
    return (MONTHS[month - 1] || "") + " " + text.slice(0, 4);
  }

  function summary() {
    var photos = 0, videos = 0;
    items.forEach(function (item) { if (item.kind === "video") videos++; else photos++; });
    var parts = [];
    if (photos) parts.push(photos + (photos === 1 ? " photo" : " photos"));
    if (videos) parts.push(videos + (videos === 1 ? " video" : " videos"));
    var dated = items.filter(function (item) { return item.date; });
    if (dated.length) {
      var first = dated[0].date.slice(0, 10), last = dated[dated.length - 1].date.slice(0, 10);
      parts.push(first === last ? first : first + " to " + last);
    }
    document.getElementById("summary").textContent = parts.join(", ");
  }

  function tile(item, index) {
    var node = el("button", "tile");
    node.type = "button";
    node.setAttribute("data-index", String(index));
    var label = item.title || item.name || "";
    node.setAttribute("aria-label", (item.kind === "video" ? "Video " : "Photo ") + label);
    if (item.thumb) {
      var img = el("img");
      img.loading = "lazy";
      img.decoding = "async";
      img.alt = label;
      if (item.w && item.h) { img.width = item.w; img.height = item.h; }
      img.src = item.thumb;
      node.appendChild(img);
    } else {
      node.appendChild(el("span", "nothumb", item.name));
    }
    if (item.kind === "video") node.appendChild(el("span", "badge", "\u25B6 video"));
    node.addEventListener("click", function () { open(index); });
    return node;
  }

  function renderMore() {
    var fragment = document.createDocumentFragment();
    var end = Math.min(items.length, shown + CHUNK);
    for (; shown < end; shown++) {
      var item = items[shown];
      var month = monthOf(item.date);
      if (month !== lastMonth) {
        fragment.appendChild(el("h2", null, month));
        lastMonth = month;
      }
      fragment.appendChild(tile(item, shown));
    }
    grid.appendChild(fragment);
    more.setAttribute("data-shown", String(shown));
  }

  function startGrid() {
    renderMore();
    if (!("IntersectionObserver" in window)) {
      while (shown < items.length) renderMore();
      return;
    }
    var watcher = new IntersectionObserver(function (entries) {
      if (entries.some(function (e) { return e.isIntersecting; }) && shown < items.length) {
        renderMore();
        // Still in view (a tall screen, or a fast scroll): the observer does not fire again
        // for an element that stays visible, so look once more after this chunk is laid out.
        window.requestAnimationFrame(function () {
          watcher.unobserve(more);
          if (shown < items.length) watcher.observe(more);
        });
      }
    }, { rootMargin: "1200px 0px" });
    watcher.observe(more);
  }

  // -- the viewer -------------------------------------------------------------------------

  function placeText(item) {
    return [item.city, item.region, item.country].filter(Boolean).join(", ");
  }

  function showCaption(item) {
    caption.textContent = "";
    var what = item.title || item.name;
    caption.appendChild(el("p", "what", what));
    var line = [shortDate(item.date), placeText(item), item.camera].filter(Boolean).join(" \u00B7 ");
    if (line) caption.appendChild(el("p", "when", line));
    if (item.description) caption.appendChild(el("p", "description", item.description));
    if (item.kind === "video" && !(item.original && item.playable)) {
      caption.appendChild(el("p", "note", item.original
        ? "This video may not play in a browser: download it to watch it."
        : "A video: only a frame of it is shown here (this gallery was made without its original)."));
    }
    if (item.original) {
      var link = el("a", "download", "Download the original");
      link.href = item.original;
      link.setAttribute("download", item.name || "");
      var p = el("p");
      p.appendChild(link);
      caption.appendChild(p);
    }
    caption.appendChild(el("p", "position", (current + 1) + " / " + items.length));
  }

  function showMedia(item) {
    stage.textContent = "";
    if (item.kind === "video" && item.original && item.playable) {
      var video = el("video");
      video.controls = true;
      video.preload = "metadata";
      video.playsInline = true;
      if (item.preview || item.thumb) video.poster = item.preview || item.thumb;
      video.src = item.original;
      stage.appendChild(video);
      return;
    }
    var source = item.preview || item.thumb;
    if (source) {
      var img = el("img");
      img.alt = item.title || item.name || "";
      img.src = source;
      stage.appendChild(img);
    } else {
      stage.appendChild(el("p", "nothumb", item.name));
    }
  }

  function preload(index) {
    var item = items[index];
    if (item && item.preview) { var img = new Image(); img.src = item.preview; }
  }

  function open(index) {
    if (index < 0 || index >= items.length) return;
    var wasOpen = current >= 0;
    current = index;
    showMedia(items[index]);
    showCaption(items[index]);
    viewer.hidden = false;
    document.body.style.overflow = "hidden";
    if (!wasOpen) document.getElementById("close").focus();
    preload(index + 1);
    preload(index - 1);
  }

  function close() {
    if (current < 0) return;
    stage.textContent = ""; // stops a playing video
    viewer.hidden = true;
    document.body.style.overflow = "";
    var back = grid.querySelector('[data-index="' + current + '"]');
    current = -1;
    if (back) back.focus();
  }

  function step(by) {
    if (current < 0) return;
    var next = current + by;
    if (next >= 0 && next < items.length) open(next);
  }

  document.getElementById("prev").addEventListener("click", function () { step(-1); });
  document.getElementById("next").addEventListener("click", function () { step(1); });
  document.getElementById("close").addEventListener("click", close);
  document.addEventListener("keydown", function (event) {
    if (current < 0) return;
    if (event.key === "ArrowRight") { step(1); event.preventDefault(); }
    else if (event.key === "ArrowLeft") { step(-1); event.preventDefault(); }
    else if (event.key === "Escape") { close(); event.preventDefault(); }
  });

  // Swipe: a mostly sideways stroke of 50 px or more steps; a tap on the picture does not.
  var touch = null;
  stage.addEventListener("touchstart", function (event) {
    if (event.touches.length === 1) touch = { x: event.touches[0].clientX, y: event.touches[0].clientY };
  }, { passive: true });
  stage.addEventListener("touchend", function (event) {
    if (!touch || !event.changedTouches.length) return;
    var dx = event.changedTouches[0].clientX - touch.x;
    var dy = event.changedTouches[0].clientY - touch.y;
    touch = null;
    if (Math.abs(dx) > 50 && Math.abs(dx) > Math.abs(dy)) step(dx < 0 ? 1 : -1);
  }, { passive: true });

  // -- the map (only with --keep-location: otherwise no position is in data.js) -------------

  function showView(name) {
    var onMap = name === "map";
    document.getElementById("grid").hidden = onMap;
    more.hidden = onMap;
    document.getElementById("map").hidden = !onMap;
    document.getElementById("show-grid").setAttribute("aria-pressed", String(!onMap));
    document.getElementById("show-map").setAttribute("aria-pressed", String(onMap));
    if (onMap) startMap();
  }

  function startMap() {
    if (map) { map.invalidateSize(); return; }
    var L = window.L;
    // No tile layer: tiles would come from a server. The countries are drawn instead.
    map = L.map("mapview", { worldCopyJump: true, attributionControl: false, minZoom: 1, maxZoom: 12 });
    var located = [];
    items.forEach(function (item, index) {
      if (typeof item.lat === "number" && typeof item.lon === "number") located.push(index);
    });
    var points = located.map(function (index) { return [items[index].lat, items[index].lon]; });
    // The view first: Leaflet cannot draw a vector layer on a map without one.
    if (points.length) map.fitBounds(points, { padding: [40, 40], maxZoom: 9 });
    else map.setView([20, 0], 2);
    if (window.LUNA_COUNTRIES) {
      L.geoJSON(window.LUNA_COUNTRIES, {
        interactive: false,
        style: { color: "#7a7a7a", weight: 1, fillColor: "#efeadf", fillOpacity: 1 },
      }).addTo(map);
    }
    located.forEach(function (index, n) {
      var marker = L.circleMarker(points[n], {
        radius: 6, weight: 2, color: "#fff", fillColor: "#d33", fillOpacity: 0.9,
        className: "luna-marker",
      });
      marker.on("click", function () { open(index); });
      marker.addTo(map);
    });
    document.getElementById("map-note").textContent = points.length + " of " + items.length +
      " with a position. Country outlines: Natural Earth. Map: Leaflet.";
  }

  if (data.map && window.L) {
    document.getElementById("views").hidden = false;
    document.getElementById("show-grid").addEventListener("click", function () { showView("grid"); });
    document.getElementById("show-map").addEventListener("click", function () { showView("map"); });
  }

  summary();
  startGrid();
})();
