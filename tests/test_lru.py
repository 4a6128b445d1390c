"""The shared, bounded cache behind the app is safe under concurrent use."""
import threading

from ui.lru import BoundedLRU


def test_bound_order_and_eviction_callback():
    evicted = []
    lru = BoundedLRU(3, on_evict=evicted.append)
    for k in "abcd":
        lru.put(k, k.upper())
    assert len(lru) == 3 and lru.get("a") is None and evicted == ["A"]
    assert lru.get("b") == "B"  # b is now the most recent
    lru.put("e", "E")
    assert evicted == ["A", "C"] and lru.get("b") == "B"


def test_concurrent_puts_and_gets_stay_bounded_and_consistent():
    lru = BoundedLRU(16)
    errors = []

    def worker(t: int) -> None:
        try:
            for i in range(2000):
                key = (t, i % 40)
                lru.put(key, key)
                got = lru.get(key)
                if got is not None and got != key:
                    errors.append((key, got))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors and len(lru) == 16


def test_same_key_is_made_once_while_others_wait():
    lru = BoundedLRU(4)
    calls = []
    started = threading.Barrier(6)

    def make():
        calls.append(1)
        threading.Event().wait(0.3)  # a slow computation: the others arrive meanwhile
        return "value"

    results = []

    def worker():
        started.wait()
        results.append(lru.get_or_make("same", make))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert results == ["value"] * 6 and len(calls) == 1


def test_a_failed_make_lets_the_next_caller_try_again():
    lru = BoundedLRU(4)

    def boom():
        raise ValueError("bad")

    try:
        lru.get_or_make("k", boom)
    except ValueError:
        pass
    assert lru.get_or_make("k", lambda: 5) == 5
