"""`s2i plugins`: every plugin, its distribution and version, and the names it provides."""

from __future__ import annotations

import json

from s2i_core.specs import KIND_BY_NAME


def print_plugins(args: list[str], registry) -> int:
    from rich.console import Console
    from rich.table import Table

    rows = registry.plugins()
    if "--json" in args:
        print(json.dumps([{"plugin": p.plugin, "distribution": p.dist, "version": p.version,
                           "provides": provides} for p, provides in rows]
                         + [{"plugin": b.provider.plugin, "distribution": b.provider.dist,
                             "version": b.provider.version, "error": b.error} for b in registry.broken],
                         indent=2))
        return 0
    table = Table(title="s2i plugins", show_lines=True)
    for column in ("plugin", "distribution", "version", "provides"):
        table.add_column(column, overflow="fold")
    for provider, provides in rows:
        text = "\n".join(f"[cyan]{KIND_BY_NAME[k].group}[/]: {', '.join(v)}" for k, v in provides.items())
        table.add_row(provider.plugin, provider.dist, provider.version, text or "[dim](nothing)[/]")
    for bad in registry.broken:
        table.add_row(f"[red]{bad.provider.plugin}[/]", bad.provider.dist, bad.provider.version,
                      f"[red]failed to load, skipped:[/] {bad.error}")
    Console().print(table)
    return 0
