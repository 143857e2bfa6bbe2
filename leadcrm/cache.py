"""Django's Redis cache, reusing one `redis.Redis` client per connection pool.

The stock client builds a new `redis.Redis` for every operation, and each one fills a table of
~170 response callbacks: about 0.2 ms a call, twice on every API request (the key lookup and
the rate-limit counter). A client is a thin, thread-safe handle on its pool, so one will do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient

if TYPE_CHECKING:
    from django.core.cache.backends.redis import RedisSerializer
    from redis import ConnectionPool, Redis


class RedisCacheClient(DjangoRedisCacheClient):
    # Django's private attributes used here (django-stubs types only the public API).
    _client: type[Redis]
    _serializer: RedisSerializer
    _get_connection_pool: Callable[[bool], ConnectionPool]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # pools live as long as this object
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    _cache: RedisCacheClient  # a private cached_property of Django's, absent from django-stubs

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient

    def get_many_and_incr(self, *, keys: Sequence[str], counter: str, counter_timeout: int) -> tuple[list[Any], int]:
        made = [self.make_and_validate_key(key) for key in keys]
        counter = self.make_and_validate_key(counter)
        client = self._cache.get_client(counter, write=True)  # all on the primary
        pipe = client.pipeline(transaction=False)
        for key in made:
            pipe.get(key)
        pipe.incr(counter)
        *raws, count = pipe.execute()
        if count == 1:  # a new counter: once per window
            client.expire(counter, counter_timeout)
        loads = self._cache._serializer.loads
        return [None if raw is None else loads(raw) for raw in raws], int(count)

    def get_and_incr(self, *, key: str, counter: str, counter_timeout: int) -> tuple[Any, int]:
        (value,), count = self.get_many_and_incr(keys=[key], counter=counter, counter_timeout=counter_timeout)
        return value, count


def cache_incr(counter: str, *, timeout: int, cache: Any = None) -> int:
    """`counter` incremented, created at 1 (expiring after `timeout` seconds) when missing."""
    if cache is None:
        from django.core.cache import cache
    try:
        return int(cache.incr(counter))  # one round trip on every call but a window's first
    except ValueError:  # no counter yet (or it just expired)
        return 1 if cache.add(counter, 1, timeout=timeout) else int(cache.incr(counter))


def cache_get_many_and_incr(*, keys: Sequence[str], counter: str, counter_timeout: int) -> tuple[list[Any], int]:
    """The cached values of `keys` (None where missing), and `counter` incremented (created at
    1, expiring after `counter_timeout` seconds): one round trip on Redis, where every API
    request needs them all."""
    from django.core.cache import caches

    cache = caches["default"]  # the backend itself: `django.core.cache.cache` is a proxy
    if isinstance(cache, RedisCache):
        return cache.get_many_and_incr(keys=keys, counter=counter, counter_timeout=counter_timeout)
    found = cache.get_many(keys)
    return [found.get(key) for key in keys], cache_incr(counter, timeout=counter_timeout, cache=cache)


def cache_get_and_incr(*, key: str, counter: str, counter_timeout: int) -> tuple[Any, int]:
    """`cache_get_many_and_incr` for one key."""
    (value,), count = cache_get_many_and_incr(keys=[key], counter=counter, counter_timeout=counter_timeout)
    return value, count
