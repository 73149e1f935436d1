"""Reading admin pages the way a person does: the change-list table and marked-up values."""

from __future__ import annotations

from html.parser import HTMLParser


class _Cells(HTMLParser):
    """Collects the text of elements by CSS class, and the rows of the change-list table."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, str]] = []
        self.by_class: dict[str, list[str]] = {}
        self._open: list[tuple[str, list[str], list[str]]] = []  # (tag, classes, text parts)
        self._in_results = False
        self._depth = 0
        self._note = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id") == "result_list":
            self._in_results = True
        if self._in_results and tag == "tr":
            self.rows.append({})
        if tag in ("br", "img", "input", "meta", "link", "hr"):
            return
        self._open.append((tag, (attrs.get("class") or "").split(), []))

    def handle_endtag(self, tag):
        if tag == "table" and self._in_results:
            self._in_results = False
        while self._open:
            open_tag, classes, parts = self._open.pop()
            text = " ".join("".join(parts).split())
            for name in classes:
                self.by_class.setdefault(name, []).append(text)
                if self._in_results and name.startswith("field-") and self.rows:
                    self.rows[-1][name.removeprefix("field-")] = text
                    if self._note:
                        self.rows[-1][name.removeprefix("field-") + "_note"] = self._note
                        self._note = ""
            # A cell's details (small print under its main line) are read apart from it.
            if self._in_results and "cell-note" in classes:
                self._note = text
            elif self._open:
                self._open[-1][2].append("".join(parts))
            if open_tag == tag:
                break

    def handle_data(self, data):
        if self._open:
            self._open[-1][2].append(data)


def parse(html: bytes | str) -> _Cells:
    parser = _Cells()
    parser.feed(html.decode() if isinstance(html, bytes) else html)
    parser.close()
    return parser


def result_rows(response) -> list[dict[str, str]]:
    """The change list's rows, each as {field name: text shown}, and {field name + "_note":
    the small print under it} where a cell has some."""
    assert response.status_code == 200, response.status_code
    return [row for row in parse(response.content).rows if row]


def texts(response, css_class: str) -> list[str]:
    return parse(response.content).by_class.get(css_class, [])
