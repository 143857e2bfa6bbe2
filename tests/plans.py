"""Reading PostgreSQL's `EXPLAIN (FORMAT JSON)` output in tests that check a plan's shape."""

from __future__ import annotations

import json
from typing import Any


def plan_nodes(explained: Any) -> list[dict[str, Any]]:
    """Every node of the plan, root first (`explained`: the EXPLAIN row's value, text or parsed)."""
    pending = [(json.loads(explained) if isinstance(explained, str) else explained)[0]["Plan"]]
    nodes: list[dict[str, Any]] = []
    while pending:
        node = pending.pop()
        nodes.append(node)
        pending.extend(node.get("Plans", []))
    return nodes
