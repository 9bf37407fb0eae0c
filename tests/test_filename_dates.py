"""Dates read from the names phones and apps give files."""

from __future__ import annotations

import datetime as dt

import pytest

from luna.ingest.extract.filename import date_from_filename

D = dt.datetime


@pytest.mark.parametrize(
    "name,expected,has_time",
    [
        ("IMG_20190601_123456.jpg", D(2019, 6, 1, 12, 34, 56), True),
        ("VID_20190601_123456.mp4", D(2019, 6, 1, 12, 34, 56), True),
        ("PXL_20230115_081502123.jpg", D(2023, 1, 15, 8, 15, 2), True),
        ("PXL_20230115_081502123.MP.jpg", D(2023, 1, 15, 8, 15, 2), True),
        ("20190601_123456.jpg", D(2019, 6, 1, 12, 34, 56), True),
        ("IMG-20190601-WA0007.jpg", D(2019, 6, 1), False),
        ("VID-20190601-WA0001.mp4", D(2019, 6, 1), False),
        ("Screenshot_2019-06-01-12-34-56.png", D(2019, 6, 1, 12, 34, 56), True),
        ("Screenshot_20190601-123456.png", D(2019, 6, 1, 12, 34, 56), True),
        ("Screenshot_20190601-123456_Chrome.jpg", D(2019, 6, 1, 12, 34, 56), True),
        ("Screenshot 2019-06-01 at 12.34.56.png", D(2019, 6, 1, 12, 34, 56), True),
        ("Screen Shot 2019-06-01 at 1.34.56 PM.png", D(2019, 6, 1, 13, 34, 56), True),
        ("2019-06-01 12.34.56.jpg", D(2019, 6, 1, 12, 34, 56), True),
        ("signal-2019-06-01-123456.jpg", D(2019, 6, 1, 12, 34, 56), True),
        ("PANO_20190601_123456.jpg", D(2019, 6, 1, 12, 34, 56), True),
    ],
)
def test_dates_in_known_file_names(name, expected, has_time):
    assert date_from_filename(name) == (expected, has_time)


@pytest.mark.parametrize(
    "name",
    [
        "IMG_1234.JPG",
        "DSC01234.ARW",
        "P1000123.JPG",
        "holiday.jpg",
        "IMG_20191301_123456.jpg",  # month 13
        "IMG_20190631_123456.jpg",  # 31 June
        "scan_1234567890123.jpg",  # a long serial number
        "IMG_20990601_120000.jpg",  # in the future
    ],
)
def test_names_without_a_date(name):
    assert date_from_filename(name) is None
