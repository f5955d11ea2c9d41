"""The per-process program cache: one reload at a time, stale values served meanwhile, edits win."""

from __future__ import annotations

import threading

from engage.store.program import ProgramCache


class Loader:
    """Counts loads; a load can be held open until `release` is set."""

    def __init__(self, hold: bool = False):
        self.calls = 0
        self.started = threading.Event()
        self.release = threading.Event()
        if not hold:
            self.release.set()

    def __call__(self):
        self.calls += 1
        self.started.set()
        assert self.release.wait(5)
        return f"value {self.calls}"


def test_a_fresh_value_is_not_reloaded():
    cache, loader = ProgramCache(ttl_seconds=60), Loader()
    assert cache.get(loader) == "value 1"
    assert cache.get(loader) == "value 1"
    assert loader.calls == 1


def test_a_stale_value_is_reloaded_by_one_thread_while_others_get_the_stale_one():
    cache = ProgramCache(ttl_seconds=0)
    assert cache.get(Loader()) == "value 1"
    slow = Loader(hold=True)
    results: list[str] = []
    reloading = threading.Thread(target=lambda: results.append(cache.get(slow)))
    reloading.start()
    assert slow.started.wait(5)
    others = Loader()
    assert cache.get(others) == "value 1"  # stale, while the reload is under way
    assert others.calls == 0
    slow.release.set()
    reloading.join(5)
    assert results == ["value 1"]  # the slow loader's first call
    assert slow.calls == 1


def test_a_cleared_cache_loads_at_once_and_a_load_begun_before_the_edit_is_not_kept():
    cache = ProgramCache(ttl_seconds=60)
    slow = Loader(hold=True)
    reloading = threading.Thread(target=lambda: cache.get(slow))
    reloading.start()
    assert slow.started.wait(5)
    cache.clear()  # an edit lands while the old rules are being read
    slow.release.set()
    reloading.join(5)
    after = Loader()
    assert cache.get(after) == "value 1"
    assert after.calls == 1  # the value read before the edit was not cached
