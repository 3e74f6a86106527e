"""Client registrations and reply addressing without sockets: no IP fallback for a socket that never said
hello, every hello's sending socket remembered, a bounded table; and the token buckets with a fake clock."""

from __future__ import annotations

from bridge.daemon.budget import RateLimits, ReplyBudget
from bridge.daemon.clients import Client, ClientRegistry


def test_only_a_socket_that_said_hello_is_routed_to_its_reply_port():
    reg = ClientRegistry()
    reg.register(("127.0.0.1", 5000), Client("max", ("127.0.0.1", 9001)))
    assert reg.reply_address(("127.0.0.1", 5000), None) == ("127.0.0.1", 9001)
    assert reg.reply_address(("127.0.0.1", 6000), None) == ("127.0.0.1", 6000)  # same IP, another app
    assert reg.reply_address(("127.0.0.1", 6000), 7000) == ("127.0.0.1", 7000)
    assert reg.origin(("127.0.0.1", 9001)).name == "max"
    assert reg.origin(("127.0.0.1", 6000)).client == "127.0.0.1:6000"


def test_a_client_that_says_hello_again_from_a_new_socket_is_found_from_both():
    reg = ClientRegistry()
    reg.register(("127.0.0.1", 5000), Client("max", ("127.0.0.1", 9001)))
    reg.register(("127.0.0.1", 5001), Client("max", ("127.0.0.1", 9001)))
    assert reg.reply_address(("127.0.0.1", 5000), None) == ("127.0.0.1", 9001)
    assert reg.reply_address(("127.0.0.1", 5001), None) == ("127.0.0.1", 9001)
    assert len(reg.all()) == 1
    reg.register(("127.0.0.1", 5001), Client("max", ("127.0.0.1", 9002)))  # moved its listening port
    assert [c.reply_to for c in reg.all()] == [("127.0.0.1", 9002)]


def test_the_table_is_bounded_least_recently_seen_first():
    reg = ClientRegistry(limit=8)
    for port in range(20):
        reg.register(("127.0.0.1", 5000 + port), Client(f"c{port}", ("127.0.0.1", 5000 + port)))
    assert {c.name for c in reg.all()} == {f"c{i}" for i in range(12, 20)}
    reg.origin(("127.0.0.1", 5012))  # the oldest is seen again: c13 becomes the oldest
    reg.register(("127.0.0.1", 6000), Client("new", ("127.0.0.1", 6000)))
    names = {c.name for c in reg.all()}
    assert len(names) == 8 and "c12" in names and "c13" not in names and "new" in names
    assert reg.reply_address(("127.0.0.1", 5000), None) == ("127.0.0.1", 5000)  # forgotten: its source


def test_token_buckets_per_key_and_daemon_wide():
    now = [0.0]
    limits = RateLimits({"heavy": (1.0, 2)}, global_factor=2, clock=lambda: now[0])
    a, b, c = ("h", 1), ("h", 2), ("h", 3)
    assert [limits.allow("heavy", a) for _ in range(3)] == [True, True, False]
    assert [limits.allow("heavy", b) for _ in range(3)] == [True, True, False]
    assert not limits.allow("heavy", c)  # the daemon-wide bucket (2 x 2) is empty too
    now[0] = 1.0
    assert limits.allow("heavy", a) and not limits.allow("heavy", a)
    limits.give_back("heavy", a)
    now[0] = 1.5
    assert limits.allow("heavy", a)


def test_a_reply_budget_never_overspends():
    budget = ReplyBudget(100)
    assert budget.charge(60) and not budget.charge(41) and budget.charge(40) and budget.left == 0
