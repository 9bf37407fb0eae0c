"""Places in words (issue 17): each file's city, region and country, from its own IPTC/XMP
names or luna's offline lookup of its position; found by `find --place/--country`, used in
--format and folder templates, listed by `luna places`, counted by `luna stats`, naming
the events `event detect` makes; all without a network.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from conftest import library_execute, make_photo, run_cli, run_json

from luna.ops.places import names_for
from luna.places import Place

PARIS = (48.8566, 2.3522)
BOULOGNE = (48.8397, 2.2399)  # Boulogne-Billancourt, a suburb of Paris
STRASBOURG = (48.5734, 7.7521)
KEHL = (48.5725, 7.8150)  # across the Rhine from Strasbourg, in Germany
OPEN_SEA = (40.0, -40.0)


def sidecar(photo, **names) -> None:
    """An XMP sidecar beside `photo` naming its place (photoshop:City, State, Country;
    Iptc4xmpCore:CountryCode)."""
    properties = {"City": "photoshop", "State": "photoshop", "Country": "photoshop",
                  "CountryCode": "Iptc4xmpCore"}  # fmt: skip
    attributes = " ".join(f'{properties[key]}:{key}="{value}"' for key, value in names.items())
    photo.with_suffix(".xmp").write_text(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" '
        f'xmlns:Iptc4xmpCore="http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/" {attributes}/>'
        "</rdf:RDF></x:xmpmeta>"
    )


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    """Photos of known places, some naming their place themselves; read-only."""
    folder = tmp_path_factory.mktemp("places")
    for name, gps in (
        ("paris.jpg", PARIS), ("boulogne.jpg", BOULOGNE), ("strasbourg.jpg", STRASBOURG),
        ("kehl.jpg", KEHL), ("sea.jpg", OPEN_SEA), ("nowhere.jpg", None),
        ("lutece.jpg", PARIS), ("kyoto.jpg", PARIS), ("reykjavik.jpg", None),
    ):  # fmt: skip
        make_photo(folder / name, gps=gps)
    # Its own city, completed from its position: the region and country are Paris's.
    sidecar(folder / "lutece.jpg", City="Lutèce")
    # Names of another country than its position's: the file's names alone.
    sidecar(folder / "kyoto.jpg", City="Kyoto", Country="Japan", CountryCode="JP")
    # Names without a position.
    sidecar(folder / "reykjavik.jpg", City="Reykjavík", Country="Iceland")
    return folder


@pytest.fixture
def library(shots, library_path):
    code, _, err = run_cli("import", str(shots))
    assert code == 0, err
    return library_path


def places_by_name(*filters) -> dict[str, tuple]:
    code, found, err = run_json("find", *filters)
    assert code == 0, err
    return {
        f["filename"]: (f["city"], f["region"], f["country"], f["country_code"], f["place_source"])
        for f in found["files"]
        if f["kind"] != "sidecar"
    }


def found_names(*filters) -> set[str]:
    code, out, err = run_cli("find", *filters, "--format", "{filename}")
    assert code == 0, err
    return set(out.split())


def test_each_file_gets_its_place_from_its_names_or_its_position(library):
    assert places_by_name() == {
        "paris.jpg": ("Paris", "Île-de-France", "France", "FR", "lookup"),
        # The suburb's own centre is nearer than Paris's: it is the suburb.
        "boulogne.jpg": ("Boulogne-Billancourt", "Île-de-France", "France", "FR", "lookup"),
        "strasbourg.jpg": ("Strasbourg", "Grand Est", "France", "FR", "lookup"),
        "kehl.jpg": ("Kehl", "Baden-Wurttemberg", "Germany", "DE", "lookup"),
        "sea.jpg": (None, None, None, None, None),
        "nowhere.jpg": (None, None, None, None, None),
        "lutece.jpg": ("Lutèce", "Île-de-France", "France", "FR", "file+lookup"),
        "kyoto.jpg": ("Kyoto", None, "Japan", "JP", "file"),
        "reykjavik.jpg": ("Reykjavík", None, "Iceland", None, "file"),
    }


def test_find_by_place_any_case_and_accents(library):
    paris_region = {"paris.jpg", "boulogne.jpg", "lutece.jpg"}
    assert found_names("--place", "Paris") == {"paris.jpg"}
    assert found_names("--place", "PARIS") == {"paris.jpg"}
    assert found_names("--place", "ile-de-france") == paris_region
    assert found_names("--place", "Île de France") == paris_region
    assert found_names("--place", "lutece") == {"lutece.jpg"}
    assert found_names("--place", "reykjavik") == {"reykjavik.jpg"}
    france = paris_region | {"strasbourg.jpg"}
    assert found_names("--place", "france") == france
    assert found_names("--country", "FR") == france
    assert found_names("--country", "fr") == france
    assert found_names("--country", "France") == france
    assert found_names("--country", "DE") == {"kehl.jpg"}
    assert found_names("--country", "Japan") == {"kyoto.jpg"}
    # A name no file has finds nothing, and says nothing is wrong.
    assert found_names("--place", "Atlantis") == set()
    assert found_names("--place", "Par") == set()  # whole names, not parts
    # With the other filters.
    assert found_names("--place", "ile-de-france", "--name", "p*") == {"paris.jpg"}


def test_place_fields_in_format_and_fields(library):
    code, out, _ = run_cli("find", "--place", "France", "--sort", "name",
                           "--format", "{country_code}/{region}/{city}/{filename}")  # fmt: skip
    assert out.splitlines() == [
        "FR/Île-de-France/Boulogne-Billancourt/boulogne.jpg",
        "FR/Île-de-France/Lutèce/lutece.jpg",
        "FR/Île-de-France/Paris/paris.jpg",
        "FR/Grand Est/Strasbourg/strasbourg.jpg",
    ]
    code, out, _ = run_cli("find", "--name", "kehl.jpg", "--fields", "city,country,filename")
    assert out.split("\t") == ["Kehl", "Germany", "kehl.jpg\n"]


def test_luna_places_lists_places_with_counts(library):
    code, listing, _ = run_json("places")
    assert code == 0
    assert listing["by"] == "city" and listing["without_place"] == 2
    rows = {row["city"]: row for row in listing["places"]}
    assert set(rows) == {"Paris", "Boulogne-Billancourt", "Strasbourg", "Kehl", "Lutèce",
                         "Kyoto", "Reykjavík"}  # fmt: skip
    assert rows["Paris"] == {"city": "Paris", "region": "Île-de-France", "country": "France",
                             "country_code": "FR", "files": 1}  # fmt: skip
    code, listing, _ = run_json("places", "--by", "country")
    counts = {row["country"]: row["files"] for row in listing["places"]}
    assert counts == {"France": 4, "Germany": 1, "Japan": 1, "Iceland": 1}
    assert listing["places"][0]["country"] == "France"  # most files first
    code, listing, _ = run_json("places", "--by", "region")
    regions = {(row["region"], row["country"]): row["files"] for row in listing["places"]}
    assert regions[("Île-de-France", "France")] == 3
    code, out, _ = run_cli("places", "--by", "country", "--csv")
    assert out.splitlines()[:2] == ["country,country_code,files", "France,FR,4"]
    code, out, err = run_cli("places", "--by", "street")
    assert code == 2 and "--by" in err and len(err.strip().splitlines()) == 1


def test_stats_count_countries_and_cities(library):
    code, stats, _ = run_json("stats")
    assert stats["by_country"] == {"France": 4, "Germany": 1, "Iceland": 1, "Japan": 1,
                                   "unknown": 2}  # fmt: skip
    assert stats["by_city"]["Paris, France"] == 1
    assert stats["by_city"]["Kehl, Germany"] == 1
    assert "unknown" not in stats["by_city"]


def test_show_says_whose_names_they_are(library, shots):
    code, out, _ = run_cli("show", str(shots / "lutece.jpg"))
    said = "Lutèce, Île-de-France, France (FR)  (named by the file, completed from its position)"
    assert said in out
    code, out, _ = run_cli("show", str(shots / "paris.jpg"))
    assert "(from its position)" in out
    code, out, _ = run_cli("show", str(shots / "nowhere.jpg"))
    assert not [line for line in out.splitlines() if line.startswith("place")]


def test_organize_files_by_country_and_city(library, shots, tmp_path):
    code, out, err = run_cli("organize", "--into", str(shots), "--dry-run",
                             "--template", "{country}/{city}/{filename}", "--json")  # fmt: skip
    assert code == 0, err
    moves = {step["source"].rsplit("/", 1)[1]: step["destination"] for step in
             __import__("json").loads(out)["steps"] if step["action"] == "move"}  # fmt: skip
    assert moves["kehl.jpg"] == str(shots / "Germany" / "Kehl" / "kehl.jpg")
    assert moves["nowhere.jpg"] == str(shots / "unknown" / "unknown" / "nowhere.jpg")
    assert (shots / "kehl.jpg").exists()  # a dry run


def test_import_copy_files_new_photos_by_place(tmp_path, library_path):
    source = tmp_path / "card"
    make_photo(source / "a.jpg", gps=KEHL)
    make_photo(source / "b.jpg", gps=None)
    into = tmp_path / "Photos"
    code, _, err = run_cli("import", str(source), "--copy", "--into", str(into),
                           "--template", "{country}/{city|somewhere}/{filename}")  # fmt: skip
    assert code == 0, err
    assert (into / "Germany" / "Kehl" / "a.jpg").is_file()
    assert (into / "unknown" / "somewhere" / "b.jpg").is_file()
    assert (source / "a.jpg").is_file()  # a copy: the card keeps its photos


def test_a_new_position_gives_a_new_place(tmp_path, library_path):
    shot = make_photo(tmp_path / "shots" / "moved.jpg", gps=PARIS)
    run_cli("import", str(tmp_path / "shots"))
    assert places_by_name()["moved.jpg"][0] == "Paris"
    make_photo(shot, gps=KEHL, taken="2019:06:01 12:35:00")  # edited in another program
    run_cli("import", str(tmp_path / "shots"))
    assert places_by_name()["moved.jpg"][:4] == ("Kehl", "Baden-Wurttemberg", "Germany", "DE")
    assert found_names("--place", "Paris") == set()


def test_geotagged_photos_get_their_place(tmp_path, library_path):
    from test_geotag import gpx

    shot = make_photo(tmp_path / "shots" / "camera.jpg", gps=None, offset="+02:00",
                      taken="2019:06:01 12:05:00")  # fmt: skip
    track = tmp_path / "walk.gpx"
    track.write_text(gpx([(*PARIS, "2019-06-01T10:00:00Z"), (*PARIS, "2019-06-01T10:10:00Z")]))
    run_cli("import", str(shot.parent))
    assert places_by_name()["camera.jpg"][0] is None
    code, _, err = run_cli("geotag", str(track), str(shot))
    assert code == 0, err
    assert places_by_name()["camera.jpg"] == ("Paris", "Île-de-France", "France", "FR", "lookup")


def test_places_update_after_an_upgrade(library):
    # As schema 8 leaves a library it upgrades: no file's place worked out yet.
    library_execute(library, "UPDATE file SET city = NULL, region = NULL, country = NULL, "
                    "country_code = NULL, place_source = NULL")  # fmt: skip
    code, out, err = run_cli("find", "--place", "Paris")
    assert code == 0 and out == ""
    assert "luna places update" in err
    code, _, err = run_cli("places", "update")
    assert code == 0, err
    assert "worked out the places of 12 files" in err  # with the 3 sidecars
    assert found_names("--place", "Paris") == {"paris.jpg"}
    code, _, err = run_cli("find", "--place", "Paris")
    assert "places update" not in err
    code, report, _ = run_json("places", "update", "--all")
    assert report["files"] == 12 and report["with_place"] == 7


def test_event_detect_names_events_by_place(tmp_path, library_path):
    shots = tmp_path / "shots"
    for n in range(5):  # a day in Paris
        make_photo(shots / f"paris{n}.jpg", gps=PARIS, taken=f"2019:06:01 1{n}:00:00")
    brittany = [(48.1173, -1.6778), (48.3904, -4.4861), (47.9960, -4.1024),
                (47.6559, -2.7603), (48.6493, -2.0257)]  # fmt: skip
    for n, gps in enumerate(brittany):  # a tour of Brittany's towns
        make_photo(shots / f"tour{n}.jpg", gps=gps, taken=f"2019:07:0{n + 1} 12:00:00")
    for n in range(5):  # a week without positions
        make_photo(shots / f"home{n}.jpg", gps=None, taken=f"2019:09:0{n + 1} 12:00:00")
    run_cli("import", str(shots))
    code, found, err = run_json("event", "detect", "--gap", "2d")
    assert code == 0, err
    names = sorted(event["name"] for event in found["events"])
    assert names == ["2019-09-01 to 2019-09-05", "Brittany, 2019-07-01 to 2019-07-05",
                     "Paris, 2019-06-01"]  # fmt: skip


def test_merging_the_files_names_with_the_lookup():
    paris = Place("Paris", "Île-de-France", "France", "FR", 0.5)
    assert names_for({}, paris) == ("Paris", "Île-de-France", "France", "FR", "lookup")
    assert names_for({}, None) == (None, None, None, None, "")
    assert names_for({"city": "Montmartre"}, paris) == (
        "Montmartre", "Île-de-France", "France", "FR", "file+lookup")  # fmt: skip
    # The country by name, any accents: the same country, completed.
    assert names_for({"city": "Paris", "country": "FRANCE"}, paris)[3] == "FR"
    # IPTC-IIM's three-letter codes are kept; another country is not completed.
    assert names_for({"city": "Kingston", "country_code": "jam"}, None) == (
        "Kingston", None, None, "JAM", "file")  # fmt: skip
    assert names_for({"country_code": "DE"}, paris) == (None, None, None, "DE", "file")
    # Every name given: the file's alone, the lookup adds nothing.
    own = {"city": "Paris", "state": "IdF", "country": "France", "country_code": "FR"}
    assert names_for(own, paris) == ("Paris", "IdF", "France", "FR", "file")


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare (util-linux)")
def test_places_need_no_network(shots, library_path):
    """Import, search, list and count places in a network namespace of its own."""
    base = ["unshare", "-n", sys.executable, "-m", "luna", "-L", str(library_path)]
    for command in (["import", str(shots)], ["find", "--place", "Paris"], ["places"],
                    ["places", "update", "--all"], ["stats"], ["show", str(shots / "paris.jpg")],
                    ["event", "detect", "--dry-run"]):  # fmt: skip
        done = subprocess.run(base + command, capture_output=True, text=True, timeout=120)
        if "unshare failed" in done.stderr or "Operation not permitted" in done.stderr:
            pytest.skip("no network namespace here")
        assert done.returncode == 0, (command, done.stderr)
        if command[0] == "find":
            assert done.stdout.strip().endswith("paris.jpg")


def test_every_test_runs_without_network_sockets():
    """conftest's _no_network guard, which every test runs under, is in force: an Internet
    socket or a name lookup fails the test, a Unix socket (PostgreSQL's) does not."""
    import socket

    from conftest import NetworkUsed

    with pytest.raises(NetworkUsed):
        socket.create_connection(("example.org", 80))
    with pytest.raises(NetworkUsed):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    socket.socket(socket.AF_UNIX).close()


def test_places_are_worked_out_a_batch_at_a_time(library):
    """A library of millions is never in memory at once: the rows come in batches, each
    file once, pending ones only unless asked for all."""
    from luna.library import Library

    with Library.open(library) as lib:
        every = [row[0] for rows in lib.store.places.to_work_out(everything=True, batch=5)
                 for row in rows]  # fmt: skip
        assert len(every) == len(set(every)) == 12  # 9 photos, 3 sidecars
        batches = list(lib.store.places.to_work_out(everything=True, batch=5))
        assert [len(rows) for rows in batches] == [5, 5, 2]
        assert list(lib.store.places.to_work_out()) == []  # nothing pending after import
