"""The per-instance room members cache: what it reuses, and for how long."""

from __future__ import annotations

from ec2_service.room_cache import TTL_S, RoomMembers


class Store:
    def __init__(self) -> None:
        self.rooms: dict[str, list[str]] = {"r": ["a=", "b="]}
        self.reads = 0

    async def members(self, room: str) -> list[str]:
        self.reads += 1
        return list(self.rooms.get(room, []))


async def test_a_fresh_list_is_reused_and_an_old_one_read_again() -> None:
    store, now = Store(), [100.0]
    cache = RoomMembers(store.members, clock=lambda: now[0])
    assert await cache.members("r") == ["a=", "b="]
    store.rooms["r"].append("c=")  # joined through another instance
    now[0] += TTL_S * 0.9
    assert await cache.members("r") == ["a=", "b="]  # missed for less than TTL_S
    assert store.reads == 1
    now[0] += TTL_S * 0.2
    assert await cache.members("r") == ["a=", "b=", "c="]
    assert store.reads == 2


async def test_a_join_here_and_a_gone_connection_are_seen_at_once() -> None:
    store = Store()
    cache = RoomMembers(store.members, clock=lambda: 0.0)
    await cache.members("r")
    store.rooms["r"].append("c=")
    cache.forget("r")
    assert await cache.members("r") == ["a=", "b=", "c="]
    cache.drop("a=")
    assert await cache.members("r") == ["b=", "c="]
    assert store.reads == 2
    listed = await cache.members("r")
    listed.append("mutated=")  # a caller's list is its own copy
    assert await cache.members("r") == ["b=", "c="]
