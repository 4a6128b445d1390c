"""A small thread-safe, size-bounded LRU map for objects shared across sessions."""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, Hashable


class BoundedLRU:
    """At most max_entries items; the least recently used one is dropped (and on_evict called)."""

    def __init__(self, max_entries: int, on_evict: Callable[[Any], None] | None = None) -> None:
        self.max_entries = max_entries
        self.on_evict = on_evict
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._making: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable) -> Any | None:
        """The value under key (marking it recently used), or None."""
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key: Hashable, value: Any) -> None:
        """Store value under key, evicting the oldest entries past the bound."""
        evicted = []
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                evicted.append(self._items.popitem(last=False)[1])
        for v in evicted:
            if self.on_evict is not None:
                self.on_evict(v)

    def get_or_make(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """The value under key, made by make() and stored when absent. make runs once per key
        at a time: a second caller of the same key waits for the first one's value instead of
        computing it again, while other keys go on unblocked."""
        value = self.get(key)
        if value is not None:
            return value
        with self._lock:
            key_lock = self._making.setdefault(key, threading.Lock())
        with key_lock:
            value = self.get(key)
            if value is None:
                try:
                    value = make()
                    self.put(key, value)
                finally:
                    with self._lock:
                        self._making.pop(key, None)
        return value

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
