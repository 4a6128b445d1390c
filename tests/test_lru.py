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
