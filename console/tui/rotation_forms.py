"""The Rotation pane's dialogs: the month calendar, an override, offering and taking
a swap. Each is one worker (console.tui.flows.flow); the change itself is made and
audited by console.rotation.changes, then the team is told."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from console.domain.errors import QuorumError
from console.tui import views
from console.tui.flows import flow

if TYPE_CHECKING:
    from console.notify.sinks import Notice
    from console.tui.host import Console


def parse_when(text: str) -> datetime:
    """An ISO date or date-time typed in a form; naive means UTC."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        hint = "use 2026-12-01 or 2026-12-01T09:00"
        raise QuorumError(f"not a date or time: {text!r} ({hint})") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


class RotationForms:
    """`c`, `o`, `w` and `t` in the Rotation pane, and `:calendar`."""

    def __init__(self, app: Console) -> None:
        self.app = app

    def _names(self) -> list[str]:
        return [r.name for r in self.app.session.config.rotations]

    def _rotation(self, selected: str | None) -> str:
        names = self._names()
        return selected or (names[0] if names else "")

    def calendar(self) -> None:
        from console.rotation import schedule
        from widgets.dialogs.calendar import CalendarScreen

        app = self.app
        config, path = app.session.config, app.session.audit_path

        async def load(year: int, month: int) -> list:
            return await asyncio.to_thread(schedule.month_grid, config, year, month, path)

        app.push_screen(CalendarScreen(load, self._names(), app.now().date()))

    @flow("rotation-form")
    async def override(self, selected: str | None) -> None:
        """`o`: put someone on a rotation for a span, with a reason."""
        from console.rotation import changes
        from widgets.dialogs.modals import Field, FormScreen

        app = self.app
        now = app.now()
        fields = [
            Field("rotation", "Rotation:", self._rotation(selected), ", ".join(self._names())),
            Field("who", "Who holds it:", app.identity.name),
            Field("starts", "From (UTC):", now.strftime("%Y-%m-%dT%H:%M")),
            Field("ends", "To (UTC):", (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")),
            Field("reason", "Reason (required):"),
        ]
        values = await app.push_screen_wait(FormScreen("rotation override", fields))
        if values:
            await self._change(
                lambda: changes.create_override(
                    app.session.config,
                    values["rotation"],
                    values["who"],
                    parse_when(values["starts"]),
                    parse_when(values["ends"]),
                    values["reason"],
                    app.session.audit_path,
                    by=app.identity.name,
                    now=app.now(),
                ),
                "override recorded",
            )

    @flow("rotation-form")
    async def offer_swap(self, selected: str | None) -> None:
        """`w`: offer part of one's own time for someone to take."""
        from console.rotation import changes
        from widgets.dialogs.modals import Field, FormScreen

        app = self.app
        now = app.now()
        fields = [
            Field("rotation", "Rotation:", self._rotation(selected)),
            Field("starts", "From (UTC):", now.strftime("%Y-%m-%dT%H:%M")),
            Field("ends", "To (UTC):", (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")),
            Field("reason", "Reason:", required=False),
        ]
        values = await app.push_screen_wait(FormScreen("offer a swap", fields))
        if values:
            await self._change(
                lambda: changes.request_swap(
                    app.session.config,
                    values["rotation"],
                    parse_when(values["starts"]),
                    parse_when(values["ends"]),
                    app.session.audit_path,
                    reason=values["reason"],
                    by=app.identity.name,
                    now=app.now(),
                ),
                "swap offered",
            )

    @flow("rotation-form")
    async def take_swap(self) -> None:
        """`t`: take one of the swaps others offer."""
        from console.rotation import changes
        from widgets.dialogs.modals import PickScreen

        app = self.app
        config, path = app.session.config, app.session.audit_path
        try:
            swaps = changes.open_swaps(config, path, app.now())
        except QuorumError as exc:
            app.say(str(exc), error=True)
            return
        if not swaps:
            app.say("no open swap to take")
            return
        swap_id = await app.push_screen_wait(PickScreen("take a swap", views.swap_options(swaps)))
        if swap_id:
            await self._change(
                lambda: changes.take_swap(
                    config, swap_id, path, by=app.identity.name, now=app.now()
                ),
                "swap taken",
            )

    async def _change(self, change: Callable[[], object], done: str) -> None:
        """Make a schedule change (audited by console.rotation.changes), then tell the team."""
        app = self.app
        try:
            made = change()
        except QuorumError as exc:
            app.say(str(exc), error=True)
            return
        app.say(done, title="rotation")
        app.feeds.refresh_rotation()
        app.feeds.refresh_audit()
        if app.session.config.notify:
            from console.notify.sinks import Notice

            notice = Notice(f"{made.rotation}: {done}", f"{app.identity.name}: {views.span(made)}")
            await self._tell_team(notice)

    async def _tell_team(self, notice: Notice) -> None:
        from console.rotation.notify import tell_team

        app = self.app
        errors = await tell_team(
            app.session.config, app.session.audit_path, notice, app.identity.name
        )
        for error in errors:
            app.say(f"notice not delivered: {error}", error=True)
