"""The line list (`RowList`): a filter shows some rows, and every row comes back as it was."""

from __future__ import annotations

import pytest
from rich.text import Text
from textual.app import App, ComposeResult

from support.screen import screen_text
from tursotui.ui.widgets.row_list import RowList


class ListApp(App[None]):
    def compose(self) -> ComposeResult:
        yield RowList(id="list")


def cells(name: str, count: int) -> tuple[Text, ...]:
    return (Text(name), Text(str(count)))


async def test_a_filter_shows_some_rows_and_every_row_comes_back_with_what_changed_meanwhile():
    app = ListApp()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(RowList)
        table.set_columns([("name", 10), ("n", 4)])
        names = [f"row{i:02d}" for i in range(30)]
        table.add_rows((name, cells(name, i)) for i, name in enumerate(names))
        kept, unchanged = table.get_row("row05"), table.get_row("row06")
        table.move_cursor(row=7)
        table.show_only(["row12", "row03"])
        await pilot.pause()
        text = screen_text(app)
        assert "row12" in text and "row03" in text and "row05" not in text
        assert text.index("row12") < text.index("row03")  # in the order given
        assert table.row_count == 2 and table.cursor_row == 0 and table.cursor_key == "row12"
        assert table.has_row("row03") and not table.has_row("row05")
        assert table.holds_row("row05") and not table.shows_all
        with pytest.raises(KeyError):
            table.get_row_index("row05")  # not shown
        table.update_rows([("row05", cells("row05", 555)), ("row03", cells("row03", 333))])
        await pilot.pause()
        assert "333" in screen_text(app)
        table.show_all()
        await pilot.pause()
        text = screen_text(app)
        assert table.row_count == 30 and table.ordered_keys == names and table.shows_all
        assert "row00" in text and "555" in text  # the update made while it was left out
        assert table.get_row("row05") is not kept  # updated
        assert table.get_row("row06") is unchanged  # kept, not made again
        assert table.get_row_index("row29") == 29
        with pytest.raises(KeyError):
            table.show_only(["row01", "nobody"])
        with pytest.raises(KeyError):
            table.show_only(["row01", "row01"])


async def test_rows_added_while_some_are_left_out_make_the_shown_rows_the_list():
    app = ListApp()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(RowList)
        table.set_columns([("name", 10), ("n", 4)])
        table.add_rows((f"r{i}", cells(f"r{i}", i)) for i in range(5))
        table.show_only(["r1", "r3"])
        table.add_rows([("r9", cells("r9", 9))])
        table.show_all()  # nothing left out any more
        await pilot.pause()
        assert table.ordered_keys == ["r1", "r3", "r9"] and not table.holds_row("r0")
        table.add_rows([("r0", cells("r0", 0))])  # its key is free again
        table.clear()
        table.show_all()
        assert table.row_count == 0 and table.shows_all
