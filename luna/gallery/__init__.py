"""The files of the page `luna gallery` writes (luna.ops.gallery copies them into the
gallery's folder): `index.html` (a template), `gallery.js`, `gallery.css`, and what the map
needs offline, vendored by tools/build_gallery_assets.py: Leaflet (`leaflet/`, BSD-2-Clause)
and Natural Earth's country outlines (`countries.js`, public domain). No Python here."""
