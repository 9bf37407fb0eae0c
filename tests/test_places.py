"""luna.places: the offline reverse geocoder, on GeoNames' real data and on small made-up
tables for the geometry (the 180th meridian, the poles, the cut-off)."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from luna.places import NOWHERE, Place, _index, place_of, places_of

# (latitude, longitude, city, region, country code): what a person standing there would say.
TABLE = [
    # City centres.
    (48.8566, 2.3522, "Paris", "Île-de-France", "FR"),
    (51.5074, -0.1278, "London", "England", "GB"),
    (40.7128, -74.0060, "New York City", "New York", "US"),
    (35.6812, 139.7671, "Tokyo", "Tokyo", "JP"),
    (-33.8688, 151.2093, "Sydney", "New South Wales", "AU"),
    (40.4168, -3.7038, "Madrid", "Madrid", "ES"),
    (55.7558, 37.6173, "Moscow", "Moscow", "RU"),
    (30.0444, 31.2357, "Cairo", "Cairo", "EG"),
    (-22.9068, -43.1729, "Rio de Janeiro", "Rio de Janeiro", "BR"),
    (-34.6037, -58.3816, "Buenos Aires", "Buenos Aires F.D.", "AR"),
    (-33.9249, 18.4241, "Cape Town", "Western Cape", "ZA"),
    (19.0760, 72.8777, "Mumbai", "Maharashtra", "IN"),
    (39.9042, 116.4074, "Beijing", "Beijing", "CN"),
    (19.4326, -99.1332, "Mexico City", "Mexico City", "MX"),
    (34.0522, -118.2437, "Los Angeles", "California", "US"),
    (-1.2921, 36.8219, "Nairobi", "Nairobi County", "KE"),
    (-36.8485, 174.7633, "Auckland", "Auckland", "NZ"),
    (1.2903, 103.8519, "Singapore", None, "SG"),
    # A district's or a small place's point is nearer, but the big city's centre wins:
    # Berlin's "Mitte" point lies 8 m from here, Berlin's 600 m; the City of London's point
    # is 500 m from St Paul's, London's 2 km; Toronto's "Bay Street Corridor" 500 m, 6 km.
    (52.5200, 13.4050, "Berlin", "State of Berlin", "DE"),
    (51.5138, -0.0984, "London", "England", "GB"),
    (43.6532, -79.3832, "Toronto", "Ontario", "CA"),
    # ...while a suburb's own centre is the suburb, and a country inside a city is the country.
    (48.8969, 2.2885, "Levallois-Perret", "Île-de-France", "FR"),
    (41.9022, 12.4539, "Vatican City", None, "VA"),
    # Borders: Basel, Weil am Rhein and Saint-Louis meet at the Rhine; Strasbourg and Kehl.
    (47.5596, 7.5886, "Basel", "Basel-City", "CH"),
    (47.5930, 7.6210, "Weil am Rhein", "Baden-Wurttemberg", "DE"),
    (47.5850, 7.5620, "Saint-Louis", "Grand Est", "FR"),
    (48.5734, 7.7521, "Strasbourg", "Grand Est", "FR"),
    (48.5700, 7.8150, "Kehl", "Baden-Wurttemberg", "DE"),
    # Windsor's riverfront: 2 km from Detroit's point, 2.3 km from Windsor's, across the
    # Detroit River; beside the Vatican, Rome.
    (42.3149, -83.0364, "Windsor", "Ontario", "CA"),
    (41.9070, 12.4600, "Rome", "Lazio", "IT"),
    # Small countries.
    (43.7384, 7.4246, "Monaco", "Municipality of Monaco", "MC"),
    (47.1410, 9.5215, "Vaduz", "Vaduz", "LI"),
    (42.5063, 1.5218, "Andorra la Vella", "Andorra la Vella", "AD"),
    # Islands.
    (64.1466, -21.9426, "Reykjavík", "Capital Region", "IS"),
    (21.3069, -157.8583, "Honolulu", "Hawaii", "US"),
    (-13.8333, -171.7667, "Apia", "Tuamasaga", "WS"),
    (-17.5516, -149.5585, "Papeete", "Îles du Vent", "PF"),
    (78.2200, 15.6500, "Longyearbyen", "Svalbard", "SJ"),
    # Both sides of the 180th meridian: Fiji (east longitudes), Tonga and Kiribati's Line
    # Islands (west), Tarawa (east).
    (-18.1416, 178.4419, "Suva", "Central", "FJ"),
    (-16.4332, 179.3645, "Labasa", "Northern", "FJ"),
    (-21.1390, -175.2000, "Nuku‘alofa", "Tongatapu", "TO"),
    (1.3290, 172.9790, "Tarawa", "Gilbert Islands", "KI"),
    (1.8700, -157.4000, "Banana", "Line Islands", "KI"),
    # In territorial waters, within the cut-off of a coastal town.
    (50.9000, 1.2000, "St Mary's Bay", "England", "GB"),
    (43.5000, 7.3000, "Antibes", "Provence-Alpes-Côte d'Azur", "FR"),
]

NOWHERE_POINTS = [
    (30.0, -40.0),  # mid-Atlantic
    (0.0, -150.0),  # mid-Pacific
    (-40.0, 90.0),  # Indian Ocean
    (-25.0, 180.0),  # South Pacific, on the meridian
    (-25.0, -179.9),
    (43.35, 7.25),  # the Mediterranean, 39 km off Nice
    (89.9, 10.0),  # near the North Pole: sea ice
    (90.0, 0.0),  # the North Pole
]

# A country without a city: its land far from any town of 1,000 people, or its waters.
COUNTRY_ONLY = [
    (-80.0, 0.0, "AQ"),  # Antarctica, which has an ISO code and no town
    (-77.85, 166.67, "AQ"),  # McMurdo Station
    (-90.0, 0.0, "AQ"),  # the South Pole
    (21.0, 13.0, "NE"),  # the Ténéré desert, Niger
    (77.0, -40.0, "GL"),  # Greenland's ice sheet
    (-16.8, -179.99, "FJ"),  # Fijian waters just east of the meridian, 60 km from a town
]


@pytest.mark.parametrize(("lat", "lon", "city", "region", "code"), TABLE)
def test_a_point_is_in_its_city_region_and_country(lat, lon, city, region, code):
    place = place_of(lat, lon)
    assert (place.city, place.region, place.country_code) == (city, region, code)
    assert place.country and place.distance_km is not None and place.distance_km < 30


@pytest.mark.parametrize(("lat", "lon"), NOWHERE_POINTS)
def test_open_sea_and_the_arctic_are_in_no_city_and_no_country(lat, lon):
    assert place_of(lat, lon) == NOWHERE


@pytest.mark.parametrize(("lat", "lon", "code"), COUNTRY_ONLY)
def test_far_from_towns_the_boundaries_still_give_the_country(lat, lon, code):
    place = place_of(lat, lon)
    assert (place.city, place.region, place.distance_km) == (None, None, None)
    assert place.country_code == code and place.country


def test_territorial_waters_are_the_country_s_and_a_boat_near_a_town_is_near_it():
    # 11 km off the Isle of Wight, 16 km off Cap Gris-Nez across the Channel from England.
    assert place_of(50.6, -1.0).city == "Bembridge"
    assert place_of(50.95, 1.45).country_code == "FR"
    assert place_of(50.9, 1.2).country_code == "GB"


def test_territories_that_the_boundaries_fold_into_their_country_keep_their_own_code():
    # Natural Earth draws Svalbard as Norway and Réunion as France; GeoNames does not.
    assert place_of(78.22, 15.65).country_code == "SJ"
    assert place_of(-21.115, 55.536).country_code == "RE"
    _, countries = _index.load()
    assert set(_index.FOLDED).isdisjoint(countries.codes)
    assert set(_index.FOLDED.values()) <= set(countries.codes)


def test_country_names_come_with_the_codes():
    assert place_of(48.8566, 2.3522).country == "France"
    assert place_of(51.5074, -0.1278).country == "United Kingdom"
    assert place_of(41.9022, 12.4539).country == "Holy See (Vatican City State)"


def test_the_distance_is_to_the_city_centre():
    assert place_of(21.3069, -157.8583).distance_km == pytest.approx(0.005, abs=0.01)
    # St Paul's is about 2 km from GeoNames' point for London (Charing Cross).
    assert place_of(51.5138, -0.0984).distance_km == pytest.approx(2.0, abs=0.1)


def test_the_batch_path_answers_as_one_lookup_each_in_order():
    points = [(lat, lon) for lat, lon, *_ in TABLE] + NOWHERE_POINTS
    assert places_of(points) == [place_of(lat, lon) for lat, lon in points]
    assert places_of([]) == []
    assert places_of(iter([(48.8566, 2.3522)]))[0].city == "Paris"


@pytest.mark.parametrize(("lat", "lon"), [(91.0, 0.0), (0.0, 180.5), (math.nan, 0.0)])
def test_a_point_off_the_globe_is_refused(lat, lon):
    with pytest.raises(ValueError, match="outside"):
        place_of(lat, lon)


def test_the_countries_file_is_what_it_says():
    _, countries = _index.load()
    assert countries.rows == 180 * 60 and countries.columns == 360 * 60 and countries.sub == 4
    assert list(countries.border_keys) == sorted(countries.border_keys)
    assert countries.at(47.5596, 7.5886) == "CH" and countries.at(47.593, 7.621) == "DE"
    assert countries.at(48.8566, 2.3522) == "FR" and countries.at(30.0, -40.0) == countries.SEA
    with pytest.raises(ValueError, match="not a luna countries file"):
        _index.Countries(b"garbage" * 10)


def test_importing_does_not_load_the_data():
    code = "import luna.places, luna.places._index as i, sys; sys.exit(i._loaded is not None)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_place_is_a_small_frozen_record():
    place = Place("Paris", "Île-de-France", "France", "FR", 0.4)
    with pytest.raises(AttributeError):
        place.city = "Lyon"  # type: ignore[misc]
    assert not hasattr(place, "__dict__")


# -- the geometry, on made-up tables -----------------------------------------------------------


def _index_of(*cities: tuple[float, float, int, str, str]) -> _index.Index:
    """An index of (latitude, longitude, population, name, country code) rows."""
    lines = ["C\tXA\tAland", "C\tXB\tBland", "R\tXA\tNorth", "R\tXB\tSouth"]
    lines += [
        f"{lat}\t{lon}\t{population}\t{0 if code == 'XA' else 1}\t{name}"
        for lat, lon, population, name, code in cities
    ]
    return _index.Index("\n".join(lines))


def _name(index: _index.Index, lat: float, lon: float) -> str | None:
    found = index.nearest(lat, lon)
    return None if found is None else index.names[found[0]]


def test_the_180th_meridian_is_no_edge():
    index = _index_of((-16.8, 179.99, 5000, "West", "XA"), (-16.8, -179.95, 5000, "East", "XA"))
    assert _name(index, -16.8, -179.995) == "West"  # 1.6 km west, over the meridian
    assert _name(index, -16.8, 180.0) == "West"
    assert _name(index, -16.8, -179.96) == "East"
    city, km = index.nearest(-16.8, -179.99)  # type: ignore[misc]
    assert index.names[city] == "West" and km == pytest.approx(2.13, abs=0.01)


def test_the_poles_are_no_edge():
    index = _index_of((89.95, 0.0, 2000, "Top", "XA"), (-89.9, 90.0, 2000, "Bottom", "XB"))
    assert _name(index, 90.0, 0.0) == "Top"
    assert _name(index, 89.95, 180.0) == "Top"  # 11 km away, across the pole
    assert _name(index, 89.8, -170.0) == "Top"  # 27 km away
    assert _name(index, 89.6, 180.0) is None  # 50 km away
    assert _name(index, -90.0, 123.0) == "Bottom"
    assert _name(index, -89.9, -90.0) == "Bottom"  # 22 km away, across the pole


def test_no_city_beyond_the_cut_off():
    index = _index_of((0.0, 0.0, 1000, "Town", "XA"))
    km_per_degree = math.pi * _index.EARTH_RADIUS_KM / 180
    assert _name(index, 0.0, 29.5 / km_per_degree) == "Town"
    assert _name(index, 0.0, 30.5 / km_per_degree) is None
    assert _name(index, 20 / km_per_degree, 20 / km_per_degree) == "Town"  # 28.3 km


def test_the_nearest_found_from_far_out_is_the_nearest():
    # Both more than two rings of fine cubes away: the coarse cubes find them.
    index = _index_of((0.0, 0.2, 1000, "Far", "XA"), (0.0, 0.15, 1000, "Near", "XA"))
    assert _name(index, 0.0, 0.0) == "Near"


def test_a_big_city_keeps_its_centre_and_a_suburb_its_own():
    index = _index_of(
        (0.0, 0.0, 2_000_000, "Big", "XA"),  # a disc of 8 km
        (0.0, 0.005, 20_000, "District", "XA"),  # 560 m from Big's point
        (0.0, 0.06, 50_000, "Suburb", "XA"),  # 6.7 km
    )
    assert _name(index, 0.0, 0.004) == "Big"  # 110 m from District's point, 450 m from Big's
    assert _name(index, 0.0, 0.06) == "Suburb"
    assert _name(index, 0.0, 0.05) == "Big"  # 1.1 km from Suburb's point, inside its disc
    assert _name(index, 0.0, 0.1) == "Suburb"  # outside every disc: the nearest


def test_a_disc_counts_only_in_the_nearest_place_s_country():
    index = _index_of((0.0, 0.0, 2_000_000, "Capital", "XA"), (0.0, 0.04, 800, "Enclave", "XB"))
    assert _name(index, 0.0, 0.041) == "Enclave"  # inside Capital's disc
    assert _name(index, 0.0, 0.015) == "Capital"  # nearer Capital's point
