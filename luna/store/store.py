"""One library's data, bound to one connection: `Store(db).tags.find("beach")`.

Each table family has its module here, and every SQL statement luna runs lives in them;
the layers above ask the store and never write SQL (tests/test_layers.py checks). The one
family not reached through a Store is luna.store.search, the SQL of `luna find`, which runs
on a plain sqlite3 connection so that a search does not import the ORM. What only SQLite
understands is spelled by luna.store.dialect."""

from __future__ import annotations

from luna.store.albums import Albums, Users
from luna.store.checks import Checks
from luna.store.duplicates import Duplicates
from luna.store.events import Events
from luna.store.files import Files
from luna.store.geotags import Geotags
from luna.store.marks import Marks
from luna.store.places import Places
from luna.store.sidecars import Sidecars
from luna.store.tags import Tags
from luna.store.thumbs import Thumbs
from luna.store.transfers import Journal


class Store:
    def __init__(self, db):
        self.db = db
        self.files = Files(db)
        self.duplicates = Duplicates(db)
        self.checks = Checks(db)
        self.events = Events(db)
        self.tags = Tags(db)
        self.marks = Marks(db)
        self.sidecars = Sidecars(db)
        self.geotags = Geotags(db)
        self.places = Places(db)
        self.albums = Albums(db)
        self.users = Users(db)
        self.transfers = Journal(db)
        self.thumbs = Thumbs(db)
