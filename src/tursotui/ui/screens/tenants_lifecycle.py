"""The tenants screen's palette entries for what the CLI's lifecycle commands do: deleted
tenants (list, undelete) and group tokens (mint, rotate).

Each calls the same provisioning functions as `tursotui tenants deleted|undelete|group-token|
rotate-group-token`, so the guards, the audit and the messages are theirs. A read-only
session is refused before anything is asked. The confirmations are opened with the keys held
for them: what is typed right after choosing the entry answers the question.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.screen import Screen
from textual.widget import Widget

from tursotui.display.literal import literal
from tursotui.ui.typeahead import hold_keys_for
from tursotui.ui.typed import tursotui_app
from tursotui.words import plural

if TYPE_CHECKING:  # the confirmation opens with the first lifecycle command, not the screen
    from tursotui.provision.protect import Flags
    from tursotui.provision.undelete import Deleted
    from tursotui.ui.commands import Command
    from tursotui.ui.screens.confirm import ConfirmScreen

UNDELETE_TITLE = "Undelete tenant"
ROTATE_TITLE = "Rotate group token"


class LifecycleCommands(Screen[None]):
    """Palette entries about deleted tenants and group tokens (mixed into the tenants screen)."""

    flags: dict[str, Flags]
    deleted: tuple[Deleted, ...] = ()
    """Deleted tenants the last `tenants: list deleted` found (Turso ones included)."""

    def action_refresh(self) -> None:  # the registry's reload: the screen's own
        raise NotImplementedError

    def lifecycle_commands(self) -> Iterator[Command]:
        """`tenants: list deleted`, `tenant: undelete SLUG` for each deleted tenant known (the
        local trash, and the last listing), `group: mint token` / `group: rotate token` for
        each Turso group the tenants are in."""
        from tursotui.provision.undelete import local_deleted  # loads only when used

        yield (
            "tenants: list deleted",
            self.action_list_deleted,
            "Deleted tenants that can still be undeleted",
        )
        settings = tursotui_app(self).settings
        seen: set[str] = set()
        for entry in [*local_deleted(settings), *self.deleted]:
            if entry.slug in seen or not entry.slug:
                continue
            seen.add(entry.slug)

            def undelete(slug: str = entry.slug, gone: Deleted = entry) -> None:
                self.action_undelete(slug, gone)

            yield (
                f"tenant: undelete {entry.slug}",
                undelete,
                f"Restore it ({entry.where}, deleted {entry.deleted_at or 'at an unknown time'})",
            )
        groups = sorted({f.group for f in self.flags.values() if f.group and f.where == "turso"})
        for group in groups:

            def mint(group: str = group) -> None:
                self.action_mint_group_token(group)

            def rotate(group: str = group) -> None:
                self.action_rotate_group_token(group)

            yield (
                f"group: mint token for {group}",
                mint,
                "A token for every database of the group (copied, never shown)",
            )
            yield (
                f"group: rotate token of {group}",
                rotate,
                "Invalidate every token of the group (says which rows need a new one)",
            )

    # -- deleted tenants ---------------------------------------------------------------------

    def action_list_deleted(self) -> None:
        """Say which deleted tenants can be undeleted (and offer them in the palette)."""
        self._list_deleted()

    @work(exclusive=True, group="deleted", exit_on_error=False, description="listing deleted")
    async def _list_deleted(self) -> None:
        from tursotui.provision import ProvisionError
        from tursotui.provision.undelete import list_deleted

        try:
            self.deleted = tuple(await list_deleted(tursotui_app(self).workspace))
        except ProvisionError as error:
            self.notify(str(error), title="Deleted tenants", severity="error", markup=False)
            return
        if not self.deleted:
            self.notify("No deleted tenant can be undeleted.", title="Deleted tenants")
            return
        lines = [
            f"{d.slug} ({d.where}, deleted {d.deleted_at or '?'})"
            + (f", kept until {d.expires}" if d.expires else "")
            for d in self.deleted
        ]
        self.notify(
            "\n".join(lines) + "\n(palette: tenant: undelete SLUG)",
            title=f"Deleted tenants ({len(self.deleted)})",
            markup=False,
            timeout=15,
        )

    def action_undelete(self, slug: str, gone: Deleted) -> None:
        """Ask, then bring `slug` back and register it again."""
        if tursotui_app(self).settings.read_only:
            self.notify(
                f"cannot undelete tenant {slug}: tursotui is in read-only mode",
                title=UNDELETE_TITLE,
                severity="warning",
                markup=False,
            )
            return
        question = Text("Undelete tenant ")
        question.append_text(literal(slug, 60))
        question.append(
            f"?\n\nIts newest deleted database ({gone.where}, deleted "
            f"{gone.deleted_at or 'at an unknown time'}) is restored, given a token, "
            "and registered again."
        )
        from tursotui.ui.screens.confirm import ConfirmScreen

        confirm = ConfirmScreen(question, yes="Undelete", title=UNDELETE_TITLE)
        self._open_confirm(confirm, partial(self._answered_undelete, slug))

    def _answered_undelete(self, slug: str, yes: bool | None) -> None:
        if yes:
            self._undelete(slug)

    @work(exclusive=True, group="undelete", exit_on_error=False, description="undeleting")
    async def _undelete(self, slug: str) -> None:
        from tursotui.provision import ProvisionError
        from tursotui.provision.undelete import undelete_tenant

        try:
            await undelete_tenant(tursotui_app(self).workspace, slug)
        except ProvisionError as error:
            self.notify(str(error), title=UNDELETE_TITLE, severity="error", markup=False)
            return
        self.deleted = tuple(d for d in self.deleted if d.slug != slug)
        self.notify(f"Tenant {slug} is back.", title=UNDELETE_TITLE, markup=False)
        self.action_refresh()  # the registry has it again

    # -- group tokens ------------------------------------------------------------------------

    def _refused_read_only(self, what: str, title: str) -> bool:
        if not tursotui_app(self).settings.read_only:
            return False
        self.notify(
            f"cannot {what}: tursotui is in read-only mode",
            title=title,
            severity="warning",
            markup=False,
        )
        return True

    def action_mint_group_token(self, group: str) -> None:
        """Mint a token for every database of `group`: copied to the clipboard, never shown."""
        if self._refused_read_only(f"mint a token for group {group}", "Group token"):
            return
        self._mint(group)

    @work(exclusive=True, group="group-token", exit_on_error=False, description="minting")
    async def _mint(self, group: str) -> None:
        from tursotui.provision import ProvisionError
        from tursotui.provision.group_tokens import mint_group_token

        try:
            token = await mint_group_token(tursotui_app(self).workspace, group)
        except ProvisionError as error:
            self.notify(str(error), title="Group token", severity="error", markup=False)
            return
        # A token is never drawn on the screen: it goes to the clipboard (OSC 52).
        self.app.copy_to_clipboard(token.get_secret_value())
        self.notify(
            f"A new token for group {group} was copied to the clipboard (audited; not shown).",
            title="Group token",
            markup=False,
        )

    def action_rotate_group_token(self, group: str) -> None:
        """Say how many tenants a rotation touches and which rows need a new token, then ask."""
        if self._refused_read_only(f"rotate the tokens of group {group}", ROTATE_TITLE):
            return
        # The keys typed now answer the confirmation, once it is open.
        hold_keys_for(self.app, self._confirm_button(ROTATE_TITLE))
        self._rotate(group)

    @work(exclusive=True, group="group-token", exit_on_error=False, description="rotating")
    async def _rotate(self, group: str) -> None:
        from tursotui.provision import ProvisionError
        from tursotui.provision.group_tokens import group_impact, rotate_group_tokens

        workspace = tursotui_app(self).workspace
        try:
            impact = await group_impact(workspace, group)
        except ProvisionError as error:
            self.notify(str(error), title=ROTATE_TITLE, severity="error", markup=False)
            return
        question = Text(impact.summary())
        question.append(
            "\n\nEvery stored token of those rows stops working; each then needs "
            "`tursotui tenants rotate-token SLUG` (or `rotate-group-token --rekey`)."
        )
        from tursotui.ui.screens.confirm import ConfirmScreen

        confirm = ConfirmScreen(question, yes="Rotate", title=ROTATE_TITLE)
        if not await self.app.push_screen_wait(confirm):
            return
        try:
            outcome = await rotate_group_tokens(workspace, group)
        except ProvisionError as error:
            self.notify(str(error), title=ROTATE_TITLE, severity="error", markup=False)
            return
        stale = outcome.impact.stored
        self.notify(
            f"The tokens of group {group} were rotated; "
            + (
                f"{plural(len(stale), 'registry row')} need a new token: {', '.join(stale)}."
                if stale
                else "no registry row stores one."
            ),
            title=ROTATE_TITLE,
            severity="warning" if stale else "information",
            markup=False,
            timeout=15,
        )
        self.action_refresh()  # the rows with a dead token now say so

    # -- confirmations -----------------------------------------------------------------------

    def _confirm_button(self, title: str) -> Callable[[], Widget | None]:
        """What the held keys wait for: the confirmation `title`, once it has focus."""
        app = self.app

        def target() -> Widget | None:
            screen = app.screen
            if isinstance(screen, ConfirmScreen) and screen.title_text == title:
                return screen.query_one("#no")  # focused once it is mounted
            return None

        return target

    def _open_confirm(self, confirm: ConfirmScreen, then: Callable[[bool | None], None]) -> None:
        """Open `confirm` now (the keys typed next answer it) and call `then(answer)`."""
        hold_keys_for(self.app, self._confirm_button(confirm.title_text or ""))
        self.app.push_screen(confirm, then)
