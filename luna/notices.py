"""How the core tells a user interface about what it did on its own: a list of callbacks.

Kept apart from luna.library (which imports the ORM) so that the CLI can subscribe in
every command without slowing down the ones that never open the library through it.
"""

from __future__ import annotations

from collections.abc import Callable

# Called with the list of luna.ops.transfer.Recovered when opening a library finished or rolled
# back copies and moves that a crash had interrupted.
recovery_listeners: list[Callable[[list], None]] = []


def recovered(results: list) -> None:
    for listener in recovery_listeners:
        listener(results)
