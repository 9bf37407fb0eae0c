"""The organizing commands together, as two people sharing one library would use them."""

from __future__ import annotations

from conftest import make_photo, run_cli


def ok(*args, input=None, user=None):
    env = {"LUNA_USER": user} if user else None
    code, out, err = run_cli(*args, env=env, input=input)
    assert code == 0, (args, err)
    return out, err


def as_json(*args, user=None):
    import json

    out, _ = ok(*args, "--json", user=user)
    return json.loads(out)


def test_a_shared_library_session(photos):
    # A weekend in Biarritz, a lone photo later, and a day in Paris.
    for i in range(6):
        make_photo(
            photos / "biarritz" / f"IMG_{i}.jpg", taken=f"2019:06:01 1{i}:00:00", color=(i, 1, 1)
        )
    make_photo(photos / "lone.jpg", taken="2019:06:20 09:00:00", color=(9, 9, 9))
    for i in range(5):
        make_photo(
            photos / "paris" / f"IMG_{i}.jpg", taken=f"2019:07:14 1{i}:30:00", color=(i, 2, 2)
        )
    ok("import", photos)

    # Tags, from a pipeline.
    listing = "\0".join(str(p) for p in sorted((photos / "biarritz").iterdir())) + "\0"
    ok("tag", "add", "-t", "Places/France/Biarritz", "-t", "beach", "-z", "-", input=listing)
    assert {t["name"]: t["files"] for t in as_json("tag", "list")["tags"]} == {
        "beach": 6,
        "Places/France/Biarritz": 6,
    }

    # Alice's album, shared with Bob as a viewer.
    ok("album", "create", "Summer 2019", user="alice")
    ok("album", "add", "summer 2019", photos / "biarritz", user="alice")
    ok("album", "share", "Summer 2019", "bob", "--role", "viewer", user="alice")
    shown = as_json("album", "show", "Summer 2019", user="bob")
    assert (shown["owner"], shown["viewers"], len(shown["files"])) == ("alice", ["bob"], 6)
    code, out, err = run_cli(
        "album", "add", "Summer 2019", photos / "lone.jpg", env={"LUNA_USER": "bob"}
    )
    assert code == 5 and out == ""
    assert "alice" in err and "bob" in err and "viewer" in err
    assert len(as_json("album", "show", "Summer 2019", user="alice")["files"]) == 6
    assert [(a["name"], a["role"]) for a in as_json("album", "list", user="bob")["albums"]] == [
        ("Summer 2019", "viewer")
    ]

    # Events: one by hand, the rest detected from the time line.
    ok("event", "create", "Bastille Day", "--start", "2019-07-14")
    out, err = ok("event", "attach", "Bastille Day")
    assert "attached 5 files" in err
    detected = as_json("event", "detect", "--gap", "6h", "--min-files", "5")["events"]
    assert [e["files"] for e in detected] == [6]  # Paris is already covered
    events = {e["name"]: e["files"] for e in as_json("event", "list")["events"]}
    assert events == {"2019-06-01": 6, "Bastille Day": 5}
    assert as_json("event", "detect", "--gap", "6h", "--min-files", "5")["events"] == []

    # What `luna show` says of one photo matches all of it.
    record = as_json("show", photos / "biarritz" / "IMG_0.jpg")["files"][0]
    assert sorted(record["tags"]) == ["Places/France/Biarritz", "beach"]
    assert [a["name"] for a in record["albums"]] == ["Summer 2019"]
    assert [e["name"] for e in record["events"]] == ["2019-06-01"]
