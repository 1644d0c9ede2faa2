"""`duyet up`: start everything, print where it is, keep it running until Ctrl-C."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from duyet.messages import UP as M
from duyet.supervisor import Child, PortInUse
from duyet.up import Stack, up


def print_stack(stack: Stack, console: Console) -> None:
    table = Table(title=M["title"], title_justify="left")
    for header in M["columns"]:
        table.add_column(header)
    urls = {
        "prefect-server": f"{stack.prefect_url}  ({M['prefect-ui']})",
        "portal": stack.portal_url,
        "mail-sink": stack.inbox_url or "",
    }
    for child in stack.supervisor.children:
        state = M["running"] if child.alive else M["stopped"]
        pid = str(child.process.pid) if child.process else ""
        table.add_row(child.name, state, pid, urls.get(child.name, ""), str(child.log))
    console.print(table)
    console.print(M["urls"].format(portal=stack.portal_url, prefect=stack.prefect_url))
    if stack.inbox_url:
        console.print(M["inbox"].format(url=stack.inbox_url))
    else:
        console.print(M["smtp"].format(host=stack.settings.smtp_host))
    console.print(M["stop-hint"])


def up_command() -> None:
    """Chạy toàn bộ hệ thống trên máy này: Prefect, worker, cổng thông tin, gửi thư."""
    console = Console()
    try:
        with console.status(M["starting"]):
            stack = up()
    except PortInUse as exc:
        port, _, variable = str(exc).partition(":")
        message = M["not-loopback"] if port == "dev-mail-not-loopback" else M["port-in-use"]
        console.print(f"[bold red]{M['error']}[/] {message.format(port=port, variable=variable)}")
        raise typer.Exit(2) from None
    except RuntimeError as exc:
        console.print(f"[bold red]{M['error']}[/] {M['failed'].format(detail=exc)}")
        raise typer.Exit(1) from None
    print_stack(stack, console)

    def restarted(child: Child) -> None:
        console.print(M["restarted"].format(name=child.name, count=child.restarts))

    try:
        stack.supervisor.watch(on_restart=restarted)
    finally:
        with console.status(M["stopping"]):
            stack.supervisor.stop()
        console.print(M["stopped-all"])
