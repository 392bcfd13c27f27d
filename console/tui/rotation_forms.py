"""The Rotation pane's dialogs: the month calendar, an override, offering and taking
a swap. Each is one worker (console.tui.flows.flow); the change takes the engine's
road for every change (console.engine.rotation_changes: the same identity, read-only
and membership guard, audit writer and worker threads as a vote), which also tells
the team."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from console.domain.errors import QuorumError
from console.tui import views
from console.tui.flows import flow

if TYPE_CHECKING:
    from console.engine.rotation_changes import RotationChange
    from console.tui.host import Console
    from widgets.dialogs.modals import Field

SPAN_NOTE = (
    "A date, or a date and time; without an offset (Z, +01:00) it is read in the "
    "rotation's own time zone."
)
STAMP = "%Y-%m-%dT%H:%MZ"  # what the form offers: the console's clock, in UTC


class RotationForms:
    """`c`, `o`, `w` and `t` in the Rotation pane, and `:calendar`."""

    def __init__(self, app: Console) -> None:
        self.app = app

    def _names(self) -> list[str]:
        return [r.name for r in self.app.session.config.rotations]

    def _rotation(self, selected: str | None) -> str:
        names = self._names()
        return selected or (names[0] if names else "")

    def _span(self) -> tuple[str, str]:
        """From now until this time tomorrow, by the console's clock."""
        now = self.app.now()
        return now.strftime(STAMP), (now + timedelta(days=1)).strftime(STAMP)

    def calendar(self) -> None:
        from console.rotation import schedule
        from console.store.backends import rotation_source
        from widgets.dialogs.calendar import CalendarScreen

        app = self.app
        config = app.session.config
        path = rotation_source(config, app.session.audit_path)

        async def load(year: int, month: int) -> list:
            return await asyncio.to_thread(schedule.month_grid, config, year, month, path)

        app.push_screen(CalendarScreen(load, self._names(), app.now().date()))

    async def _held(self, selected: str | None) -> str:
        """The rotation a swap is offered from: one this person holds now (the selected
        one first), else the selected or the first, which the engine then refuses."""
        from console.rotation.schedule import holder_at
        from console.store.backends import rotation_source

        app = self.app
        config, now = app.session.config, app.now()
        path = rotation_source(config, app.session.audit_path)
        names = self._names()
        if selected in names:
            names.remove(selected)
            names.insert(0, selected)

        def held() -> str | None:
            return next(
                (n for n in names if holder_at(config, n, now, path) == app.identity.name), None
            )

        try:
            mine = await asyncio.to_thread(held)
        except QuorumError:
            mine = None
        return mine or self._rotation(selected)

    @flow("rotation-form")
    async def override(self, selected: str | None) -> None:
        """`o`: put someone on a rotation for a span, with a reason."""
        from console.engine.rotation_changes import override_rotation
        from console.rotation.changes import span_in_zone
        from widgets.dialogs.modals import Field

        app = self.app
        starts, ends = self._span()
        fields = [
            Field("rotation", "Rotation:", self._rotation(selected), ", ".join(self._names())),
            Field("who", "Who holds it:", app.identity.name),
            Field("starts", "From:", starts),
            Field("ends", "To:", ends),
            Field("reason", "Reason (goes to the audit log):"),
        ]

        async def make(values: dict[str, str]) -> RotationChange:
            rotation = values["rotation"]
            span = span_in_zone(app.session.config, rotation, values["starts"], values["ends"])
            return await override_rotation(
                app.actions, rotation, values["who"], *span, values["reason"]
            )

        await self._form("rotation override", fields, make, "rotation override recorded")

    @flow("rotation-form")
    async def offer_swap(self, selected: str | None) -> None:
        """`w`: offer part of one's own time for someone to take."""
        from console.engine.rotation_changes import offer_swap
        from console.rotation.changes import span_in_zone
        from widgets.dialogs.modals import Field

        app = self.app
        starts, ends = self._span()
        fields = [
            Field("rotation", "Rotation:", await self._held(selected), ", ".join(self._names())),
            Field("starts", "From:", starts),
            Field("ends", "To:", ends),
            Field("reason", "Reason:", required=False),
        ]

        async def make(values: dict[str, str]) -> RotationChange:
            rotation = values["rotation"]
            span = span_in_zone(app.session.config, rotation, values["starts"], values["ends"])
            return await offer_swap(app.actions, rotation, *span, values["reason"])

        await self._form("offer a swap", fields, make, "swap offered", title="swap")

    async def _form(
        self,
        heading: str,
        fields: list[Field],
        make: Callable[[dict[str, str]], Awaitable[RotationChange]],
        done: str,
        *,
        title: str = "",
    ) -> None:
        """A schedule change's form: the change is made when it is submitted, and what
        the schedule refuses is said inside the form, which keeps what was typed."""
        from widgets.dialogs.modals import FormScreen

        app = self.app
        made: list[RotationChange] = []

        async def attempt(values: dict[str, str]) -> str | None:
            try:
                with app.flows.under_way():
                    made.append(await make(values))
            except QuorumError as exc:
                return str(exc)
            return None

        screen = FormScreen(heading, fields, SPAN_NOTE, validate=attempt)
        if await app.push_screen_wait(screen) and made:
            self._said(made[0], done, title or heading)

    @flow("rotation-form")
    async def take_swap(self) -> None:
        """`t`: take one of the swaps others offer."""
        from console.engine.rotation_changes import fetch_open_swaps, take_swap
        from widgets.dialogs.modals import PickScreen

        app = self.app
        try:
            swaps = await fetch_open_swaps(app.actions)
        except QuorumError as exc:
            app.say(str(exc), error=True)
            return
        if not swaps:
            app.say("no open swap to take")
            return
        swap_id = await app.push_screen_wait(PickScreen("take a swap", views.swap_options(swaps)))
        if swap_id:
            await self._change(lambda: take_swap(app.actions, swap_id), "swap taken", title="swap")

    async def _change(
        self, make: Callable[[], Awaitable[RotationChange]], done: str, *, title: str
    ) -> None:
        """Make a schedule change, then say so and what the team's notice met."""
        app = self.app
        try:
            with app.flows.under_way():
                made = await make()
        except QuorumError as exc:
            app.say(str(exc), error=True, title=f"{title} refused")
            return
        self._said(made, done, title)

    def _said(self, made: RotationChange, done: str, title: str) -> None:
        """Says a schedule change was made and what the team's notice met."""
        app = self.app
        app.say(done, title=title)
        for error in made.notice_errors:
            app.say(f"notice not delivered: {error}", error=True, title="warning")
        app.feeds.refresh_side(force=True)
