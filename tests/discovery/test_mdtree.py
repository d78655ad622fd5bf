"""The procedures detector's light Markdown tree: the same tree markdown-it's own SyntaxTreeNode builds, with tables
built and table cells parsed only when read (counted, not timed)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

from orchestrator_kit.discovery import _mdtree, procedures
from orchestrator_kit.discovery._mdtree import Node

from .conftest import scanner

EVAL_REPOS = Path(__file__).resolve().parents[2] / "evals" / "repos"

TRICKY = """\
---
title: front
---
# Release `v1` &amp; *more*

| Input | Description | Default |
|-------|-------------|:-------:|
| `name` | The [cluster][ref] name \\| escaped pipe | `"x"` |
| ![alt *text*](img.png) | &copy; entity, <b>html</b>, **bold _nested_** | n/a |
| autolink <https://example.com> | line\\
break | `a`b`` |

1. Run `make deploy`
   > quoted *step*

   ```bash
   kubectl rollout status deploy/x
   ```
- [ ] check the [dashboard](https://example.com "title")

    indented code

<!-- comment -->
<div>raw html</div>

Setext heading
--------------

> | in | quote |
> |----|-------|
> | a  | b [ref] |

* item

  | nested | table |
  |--------|-------|
  | `code` | \\*lit\\* |

[ref]: https://example.com/ref
"""


def reference(node: SyntaxTreeNode) -> Any:
    """A node and its subtree as plain data, from markdown-it's own tree (the independent reference)."""
    if node.is_root:
        return ("root", [reference(child) for child in node.children])
    return (node.type, node.tag, node.map, node.content, node.info, [reference(child) for child in node.children])


def ours(node: Node, parent: Node | None = None) -> Any:
    assert node.parent is parent
    if node.type == "root":
        return ("root", [ours(child, node) for child in node.children])
    return (node.type, node.tag, node.map, node.content, node.info, [ours(child, node) for child in node.children])


def markdown_it_tree(text: str) -> Any:
    return reference(SyntaxTreeNode(MarkdownIt("commonmark").enable("table").parse(text)))


def test_the_tree_is_markdown_its_own_tree_with_tables_references_and_escapes():
    assert ours(_mdtree.parse(TRICKY)) == markdown_it_tree(TRICKY)


def test_the_tree_is_markdown_its_own_tree_on_every_document_of_the_sample_repositories():
    documents = sorted(EVAL_REPOS.rglob("*.md"))
    assert len(documents) >= 20
    for path in documents:
        text = path.read_text(encoding="utf-8")
        assert ours(_mdtree.parse(text)) == markdown_it_tree(text), path


def test_the_tree_is_markdown_its_own_tree_on_random_table_documents():
    rng = random.Random(17)  # noqa: S311 - seeded test input, not security
    pieces = ["|", " | ", "`code`", "[link][r]", "[r]", "*em*", "**st**", "&amp;", "\\|", "<i>x</i>", "text",
              "\n", "\n|---|---|\n", "- item\n", "1. step\n", "> ", "```\nfenced\n```\n", "![i](x.png)", "# h\n"]
    for _ in range(300):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 60))) + "\n\n[r]: https://example.com\n"
        assert ours(_mdtree.parse(text)) == markdown_it_tree(text), text


TABLE_CELLS = ["a", "", " ", "\\|", "`x|y`", "b\\\\", "\\", ":", "-", "c d", "\u2003e\u2003", "**s**", "[r]"]
TABLE_NEIGHBOURS = ["", "> q", "- l", "# h", "```", "    code", "***", "<div>", "text", "1. x", "2) y", "  x", "+ p",
                    "~~~", "___", "<!-- c -->", "10. x", "* s", "-", "#h", "\u2003x", "\t> t", "0) z"]


def random_table_document(rng: random.Random) -> str:
    """A table-like block (ragged rows, escaped pipes, odd delimiter rows, code indents) between other blocks,
    sometimes inside a list item or a blockquote."""
    columns = rng.randint(1, 4)
    lines = [rng.choice(["para", "- item", "> q", "", "  x"]) for _ in range(rng.randint(0, 2))]
    header = "|".join(rng.choice(TABLE_CELLS) for _ in range(columns + rng.choice([0, 0, 0, 1, -1])))
    lines.append(rng.choice(["", "|", " |", "  "]) + header + rng.choice(["", "|", "| ", " "]))
    delimiter = "|".join(rng.choice(["---", ":--", "--:", ":-:", "-", " - ", "", "-- -"]) for _ in range(columns))
    lines.append(rng.choice(["", " ", "    "]) + rng.choice(["", "|"]) + delimiter + rng.choice(["", "|", " "]))
    for _ in range(rng.randint(0, 5)):
        row = "|".join(rng.choice(TABLE_CELLS) for _ in range(rng.randint(0, columns + 2)))
        lines.append(rng.choice(["", "|", " "]) + row + rng.choice(["", "|", "\\|"]))
    lines.append(rng.choice(TABLE_NEIGHBOURS))
    if rng.random() < 0.3:
        lines = [("  " if rng.random() < 0.5 else "") + line for line in ["- item", *lines]]
    elif rng.random() < 0.3:
        lines = ["> " + line for line in lines]
    return "\n".join(lines) + "\n\n[r]: https://example.com\n"


def test_tables_give_markdown_its_own_tree_whatever_their_rows():
    rng = random.Random(7)  # noqa: S311 - seeded test input, not security
    tables = 0
    reference_parser = MarkdownIt("commonmark").enable("table")
    for _ in range(1500):
        text = random_table_document(rng)
        tables += any(token.type == "table_open" for token in reference_parser.parse(text))
        assert ours(_mdtree.parse(text)) == markdown_it_tree(text), text
    assert tables >= 100  # the generator does make tables, not only paragraphs


def test_a_table_ends_where_markdown_it_stops_filling_in_missing_cells():
    # 1,000 header cells, then one-cell rows: each row lacks 999, and markdown-it stops past 65,536 missing cells
    text = ("|" + "|".join("h" for _ in range(1000)) + "|\n|" + "|".join("-" for _ in range(1000)) + "|\n"
            + "| x |\n" * 70 + "after\n")
    [reference_map] = [token.map for token in MarkdownIt("commonmark").enable("table").parse(text)
                       if token.type == "table_open"]
    tree = _mdtree.parse(text)
    assert [child.type for child in tree.children] == ["table", "paragraph"]
    assert tree.children[0].map == tuple(reference_map) == (0, 67)  # 66 rows would lack 65,934 cells
    assert len(tree.children[0].children[1].children) == 65


def test_cell_count_is_the_number_of_cells_a_row_is_cut_into():
    rng = random.Random(3)  # noqa: S311 - seeded test input, not security
    for _ in range(3000):
        row = "".join(rng.choice(["|", "\\", "a", " ", "\\|"]) for _ in range(rng.randint(1, 12)))
        assert _mdtree._cell_count(row) == len(_mdtree._cells(row)), row


def test_table_rows_are_cut_into_cells_only_when_the_table_is_read(monkeypatch):
    cut: list[str] = []
    original = _mdtree._cells

    def counting(row: str) -> list[str]:
        cut.append(row)
        return original(row)

    monkeypatch.setattr(_mdtree, "_cells", counting)
    rows = "".join(f"| `in{i}` | input {i} |\n" for i in range(50))
    tree = _mdtree.parse(f"Intro.\n\n| Name | Description |\n|---|---|\n{rows}")
    assert cut == ["| Name | Description |"]  # the header, to recognise the table; no body row
    table = tree.children[1]
    assert table.map == (2, 54)
    assert [child.type for child in table.children] == ["thead", "tbody"]
    assert len(cut) == 51
    assert [cell.children[0].content for cell in table.children[1].children[0].children] == ["`in0`", "input 0"]


BLOCK_STARTS = ["```", "~~~", "``", "***", "---", "___", "* *", "+ x", "* x", "- x", "-", "1) x", "10. x", "1.x",
                "[ref]: /url", "[ref]:", "[x]", "<div>", "<!-- c -->", "</p>", "# h", "#h", "######", "=====", "text",
                "\u00a0x", "\\> not", "| a | b |", "|---|---|", ""]
BLOCK_PREFIXES = ["", "", " ", "   ", "    ", "\t", "> ", "- ", "1. ", ">", "  - "]


def test_block_rules_offered_only_their_lines_give_markdown_its_own_tree():
    rng = random.Random(11)  # noqa: S311 - seeded test input, not security
    for _ in range(1500):
        text = "\n".join(rng.choice(BLOCK_PREFIXES) + rng.choice(BLOCK_STARTS) for _ in range(rng.randint(1, 12)))
        assert ours(_mdtree.parse(text)) == markdown_it_tree(text), text


def test_each_replaced_rule_keeps_the_blocks_it_may_interrupt():
    stock = MarkdownIt("commonmark").enable("table").block.ruler
    ruler = _mdtree._PARSER.block.ruler
    assert _mdtree._TERMINATORS is not None  # the rules were replaced (markdown-it-py 4)
    assert ruler.get_active_rules() == stock.get_active_rules()
    for chain in ("", "paragraph", "reference", "blockquote", "list"):
        assert len(ruler.getRules(chain)) == len(stock.getRules(chain)), chain


def count_inline_parses(monkeypatch) -> list[str]:
    """The source of every inline parse from now on, in order."""
    calls: list[str] = []
    original = _mdtree._PARSER.inline.parse

    def counting(src: str, *args: Any) -> Any:
        calls.append(src)
        return original(src, *args)

    monkeypatch.setattr(_mdtree._PARSER.inline, "parse", counting)
    return calls


def test_table_cells_are_parsed_only_when_read(monkeypatch):
    calls = count_inline_parses(monkeypatch)
    rows = "".join(f"| `in{i}` | input number {i} | `{i}` |\n" for i in range(200))
    tree = _mdtree.parse(f"# Inputs\n\nThe inputs.\n\n| Name | Description | Default |\n|---|---|---|\n{rows}")
    assert calls == ["Inputs", "The inputs."]  # the heading and the paragraph; no cell yet
    table = tree.children[2]
    assert table.type == "table"
    first_cell = table.children[1].children[0].children[0].children[0]  # tbody > tr > td > inline
    assert [child.type for child in first_cell.children] == ["code_inline"]
    assert calls[2:] == ["`in0`"]  # exactly the cell that was read


def test_a_readme_of_tables_without_procedures_parses_no_cell(make_repo, monkeypatch):
    calls = count_inline_parses(monkeypatch)
    rows = "".join(f"| <a name=\"input_{i}\"></a> [in{i}](#input_{i}) | Input {i} | `string` | `null` | no |\n"
                   for i in range(300))
    readme = ("# Module\n\nA module.\n\n## Inputs\n\n| Name | Description | Type | Default | Required |\n"
              f"|------|-------------|------|---------|:--------:|\n{rows}")
    inventory = scanner("markdown-procedures")(make_repo, {"README.md": readme})
    assert inventory.procedures == []
    assert len(calls) == 3  # "Module", "A module.", "Inputs": none of the 1,505 cells


def test_a_table_in_a_procedure_still_gives_its_markers_in_document_order(make_repo):
    doc = ("# Deploy\n\n| env | how |\n|---|---|\n| prod | rsync the build, then restart |\n\n"
           "1. Tag the release\n2. Run the deploy\n\n```bash\nkubectl rollout status deploy/web\n```\n")
    inventory = scanner("markdown-procedures")(make_repo, {"docs/RELEASING.md": doc})
    [procedure] = inventory.procedures
    # heading, then the table's cells (rsync, restart), then the steps and the code block
    assert procedure.markers == ["deploy", "rsync", "restart", "tag", "release", "kubectl"]


def test_marker_search_finds_what_the_plain_alternation_finds():
    import re

    plain = re.compile("|".join(f"(?P<m{i}>\\b(?:{pattern})\\b)" for i, (_, pattern) in enumerate(procedures.MARKERS)),
                       re.IGNORECASE)

    def reference_markers(texts: list[str]) -> list[str]:
        found: dict[str, None] = {}
        for text in texts:
            for match in plain.finditer(text):
                found.setdefault(procedures.MARKERS[int((match.lastgroup or "m0")[1:])][0], None)
        return list(found)

    rng = random.Random(5)  # noqa: S311 - seeded test input, not security
    words = [name for name, _ in procedures.MARKERS] + [
        "AZ", "az", "az login", "Kubectl", "ſsh", "KUBECTL", "\u212aubectl", "İ", "roll-back", "rolled  back",
        "re-deploy", "deployments", "x_ssh", "ssh_x", "log-in", "fail over", "pg_dumpall", "tagged", "Ärger", "the",
        "-", "_", ".", "\n", "  ", "`",
    ]
    for _ in range(2000):
        text = "".join(rng.choice(words) + rng.choice(["", " ", "-", "_", ".", "\n"]) for _ in range(rng.randint(1, 12)))
        assert procedures.find_markers([text]) == reference_markers([text]), text
        # and match for match (the markers are grouped by first letter in `_MARKER_RE`): same places, same marker
        assert [(m.span(), m.lastgroup) for m in procedures._MARKER_RE.finditer(text)] == [
            (m.span(), m.lastgroup) for m in plain.finditer(text)
        ], text


INLINE_PIECES = ["text", " ", "\n", "  \n", "\\", "\\*", "\\\n", "`", "``code``", "_", "*", "**", "__", "[", "]", "](x)",
                 "[a](<b c> 'd')", "[r]", "[r][]", "![i](x.png)", "!", "<", ">", "<https://e.com>", "<a@b.co>", "<b>",
                 "</b>", "<!-- c -->", "&", "&amp;", "&#35;", "&nope;", "-", ":", "=", "#", "~", "{", "}", "$", "@",
                 "é", "\u2003", "(", ")", '"']


def inline_tokens(tokens: list[Any]) -> Any:
    """Every field of inline tokens and their children, as plain data; of a destination (`href`, `src`), which the
    tree does not keep and so is not normalized (`_destination_as_written`), only that there is one."""
    return [(t.type, t.tag, t.nesting, t.content, t.markup, t.info, t.level,
             sorted((k, "<destination>" if k in ("href", "src") else v) for k, v in t.attrs.items()), t.meta,
             inline_tokens(t.children or [])) for t in tokens]


def test_inline_rules_offered_only_the_characters_they_open_give_markdown_its_own_tokens():
    assert _mdtree._TOKENIZE is not None and _mdtree._PARSER.inline.tokenize is _mdtree._TOKENIZE
    stock = MarkdownIt("commonmark").enable("table")
    env = {"references": {"R": {"href": "https://example.com/r", "title": ""}}}
    rng = random.Random(23)  # noqa: S311 - seeded test input, not security
    texts = ["[" * 30 + "deep" + "]" * 30 + "(x)", "*" * 25 + "x" + "*" * 25, "[a *b [c](d) e*](f)"]
    texts += ["".join(rng.choice(INLINE_PIECES) for _ in range(rng.randint(1, 40))) for _ in range(2000)]
    for text in texts:
        ours_ = _mdtree._PARSER.inline.parse(text, _mdtree._PARSER, dict(env), [])
        theirs = stock.inline.parse(text, stock, dict(env), [])
        assert inline_tokens(ours_) == inline_tokens(theirs), text


DESTINATION_PIECES = ["javascript:", "JavaScript:", "vbscript:", "file:", "data:", "DATA:", "data:image/png;",
                      "data:image/gif;", "image/", "png", ";", ":", "/", "//", " ", "\t", "\n", "\x0b", "\x0c",
                      "\u00a0", "\u2028", "\u3000", "é", "%", "%3A", "%20", "?", "#", "@", "[", "]", "http:",
                      "https://", "mailto:", "a", "x.y", "\x00", "\x7f", "\ufeff", "java", "script:", "ſ", "ı", "K",
                      "İ", "0", "+", "-", ".", "\\", "<", ">", '"', "'"]


def test_a_destination_is_valid_as_written_exactly_when_it_is_once_normalized():
    """The tree keeps no destination, so it is not normalized (`_destination_as_written`): markdown-it's
    validateLink must give the same answer either way."""
    from markdown_it.common.normalize_url import normalizeLink, validateLink

    assert _mdtree._PARSER.normalizeLink is _mdtree._destination_as_written
    rng = random.Random(31)  # noqa: S311 - seeded test input, not security
    refused = 0
    for _ in range(30_000):
        url = "".join(rng.choice(DESTINATION_PIECES) for _ in range(rng.randint(1, 6)))
        assert validateLink(normalizeLink(url)) is validateLink(url), url
        refused += not validateLink(url)
    assert refused > 1000  # the odd protocols were met


def test_links_with_odd_destinations_give_markdown_its_own_tree():
    rng = random.Random(37)  # noqa: S311 - seeded test input, not security
    for _ in range(400):
        destination = "".join(rng.choice(DESTINATION_PIECES[:40]) for _ in range(rng.randint(1, 5)))
        text = (f"- [a]({destination}) and <{destination}> ![i]({destination})\n\n[r]: {destination}\n\n"
                f"1. [r] [x][r]\n")
        assert ours(_mdtree.parse(text)) == markdown_it_tree(text), text
