"""Request and message ids: API Gateway's shape, cheap, and never repeated across a fork."""

from __future__ import annotations

import os
import re

from wsgate.gateway.ids import request_id

AWS_ID = r"[A-Za-z0-9_-]{15}="


def test_request_ids_have_the_connection_id_shape_and_do_not_repeat() -> None:
    ids = [request_id() for _ in range(5000)]
    assert all(re.fullmatch(AWS_ID, one) for one in ids)
    assert len(set(ids)) == len(ids)


def test_a_forked_process_does_not_repeat_its_parents_request_ids() -> None:
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # the child: its next ids, to the parent, then exit at once
        os.close(read_end)
        os.write(write_end, " ".join(request_id() for _ in range(5)).encode())
        os._exit(0)
    os.close(write_end)
    parents = [request_id() for _ in range(5)]
    with os.fdopen(read_end) as pipe:
        childs = pipe.read().split()
    os.waitpid(child, 0)
    assert len(childs) == 5
    assert not set(childs) & set(parents)
