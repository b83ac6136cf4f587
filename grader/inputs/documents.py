"""The text of an answer document: .txt .md .docx .odt .rtf .pdf .html, read with the format's
library (python-docx, odfpy, striprtf, pypdf, the stdlib's html.parser), never a hand-made parser.

`document_text(path)` returns the body text, or raises `Unreadable` with the reason in a teacher's
words (a scan with no text layer, a password, a damaged file): the caller keeps the answer, flagged.
`strip_headers` removes what a document carries besides the answer: "Name: ..." lines, a title
repeating the student id or the question, page numbers and the date/URL lines a browser prints.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from html.parser import HTMLParser
from pathlib import Path

from ..text import UnreadableText, decode_bytes, normalize

TEXT_SUFFIXES = (".txt", ".md")
DOCUMENT_SUFFIXES = (*TEXT_SUFFIXES, ".docx", ".odt", ".rtf", ".pdf", ".html", ".htm")

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"   # an encrypted .docx/.odt, or an old .doc


class Unreadable(ValueError):
    """A document whose text cannot be had; str() is the reason, e.g. 'is password-protected'."""


def document_text(path: str | Path) -> str:
    """The body text of the document at `path` (paragraphs separated by blank lines)."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise Unreadable(f"could not be read: {exc.strerror}") from None
    if suffix in TEXT_SUFFIXES:
        return normalize(_decoded(raw))
    reader = {".docx": _docx_text, ".odt": _odt_text, ".rtf": _rtf_text, ".pdf": _pdf_text,
              ".html": _html_text, ".htm": _html_text}[suffix]
    if suffix in (".docx", ".odt"):
        if raw.startswith(_OLE_MAGIC):
            raise Unreadable(f"is password-protected (or an old-format file); save it as an unprotected {suffix}")
        if not raw.startswith(b"PK"):
            raise Unreadable(f"is not a {suffix} file (damaged or renamed); open and save it again as {suffix}")
    try:
        return normalize(reader(path, raw))
    except Unreadable:
        raise
    # The file is untrusted and each library fails in its own way on a damaged one (zip, XML,
    # struct, key errors...): whatever it raises, this one answer is flagged, never the run stopped.
    except Exception as exc:   # noqa: BLE001
        raise Unreadable(f"is damaged and cannot be read as {suffix} ({exc.__class__.__name__}); "
                         f"open and save it again, or paste its text into a .txt") from None


def _decoded(raw: bytes) -> str:
    try:
        return decode_bytes(raw)[0]
    except UnreadableText as exc:
        raise Unreadable(str(exc)) from None


def _docx_text(path: Path, raw: bytes) -> str:
    """The body of word/document.xml, parsed with python-docx's own XML classes. Opening the whole
    package with docx.Document parses every part (styles, settings, theme...): thirty times the
    work for the same text, which a class of 1,000 files pays in seconds."""
    import docx
    from docx.oxml import parse_xml

    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        if "word/document.xml" not in names:   # an unusual package layout: let python-docx find its parts
            return _docx_package_text(docx.Document(str(path)))
        body = parse_xml(archive.read("word/document.xml")).body
        numbering = _WordNumbering(*(archive.read(name) if name in names else None
                                     for name in ("word/numbering.xml", "word/styles.xml")))
    blocks: list[str] = []
    _docx_blocks(body, numbering, blocks)
    return _joined(blocks)


def _docx_blocks(element, numbering: "_WordNumbering", blocks: list[str]) -> None:
    """Paragraphs and table cells in body order; content controls (w:sdt) looked into; the page
    headers and footers are other parts, never read."""
    from docx.oxml.ns import qn
    from docx.text.paragraph import Paragraph

    for child in element.iterchildren():
        if child.tag == qn("w:p"):
            blocks.append(numbering.label(child) + Paragraph(child, None).text)
        elif child.tag == qn("w:tbl"):
            for cell in child.iter(qn("w:tc")):
                blocks.append("\n".join(Paragraph(p, None).text for p in cell.iterchildren(qn("w:p"))))
        elif child.tag == qn("w:sdt"):
            for content in child.iterchildren(qn("w:sdtContent")):
                _docx_blocks(content, numbering, blocks)


def _docx_package_text(document) -> str:
    from docx.table import Table

    blocks = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            blocks.extend(cell.text for row in item.rows for cell in row.cells)
        else:
            blocks.append(item.text)
    return _joined(blocks)


class _WordNumbering:
    """The "1." Word draws before an auto-numbered paragraph (it is not in the text): decimal
    top-level lists only, counted per list, so that "1. ... 2. ..." answers can be split."""

    def __init__(self, numbering: bytes | None, styles: bytes | None) -> None:
        # parsed only when a paragraph is numbered or styled: most answers are neither
        self._numbering_xml, self._styles_xml = numbering, styles
        self._formats: dict[str, tuple[str, str]] | None = None   # numId -> (numFmt, lvlText) of level 0
        self._styles = None
        self._counts: dict[str, int] = {}

    def _load(self) -> None:
        from docx.oxml import parse_xml
        from docx.oxml.ns import qn

        self._formats = {}
        self._styles = parse_xml(self._styles_xml) if self._styles_xml else None
        if not self._numbering_xml:
            return
        numbering = parse_xml(self._numbering_xml)
        abstract = {a.get(qn("w:abstractNumId")): a for a in numbering.findall(qn("w:abstractNum"))}
        for num in numbering.findall(qn("w:num")):
            ref = num.find(qn("w:abstractNumId"))
            level = abstract.get(ref.get(qn("w:val"))) if ref is not None else None
            level = level.find(qn("w:lvl")) if level is not None else None
            if level is not None and level.find(qn("w:numFmt")) is not None and level.find(qn("w:lvlText")) is not None:
                self._formats[num.get(qn("w:numId"))] = (level.find(qn("w:numFmt")).get(qn("w:val")),
                                                         level.find(qn("w:lvlText")).get(qn("w:val")))

    def label(self, p) -> str:
        if p.pPr is None or (p.pPr.numPr is None and p.pPr.pStyle is None) or not self._numbering_xml:
            return ""   # neither numbered nor styled, or no lists in the document
        if self._formats is None:
            self._load()
        num_pr = self._num_pr(p.pPr)
        # "List Number" numbers through its style (and the styles it is based on)
        style_id = p.pPr.pStyle.val if num_pr is None and p.pPr is not None and p.pPr.pStyle is not None else None
        for _ in range(10):   # a based-on chain, never a loop
            if num_pr is not None or style_id is None or self._styles is None:
                break
            style = self._styles.get_by_id(style_id)
            if style is None:
                break
            num_pr = self._num_pr(style.pPr)
            style_id = style.basedOn_val
        if num_pr is None or num_pr.numId is None:
            return ""
        num_id = str(num_pr.numId.val)
        level = num_pr.ilvl.val if num_pr.ilvl is not None else 0
        fmt, text = self._formats.get(num_id, ("", ""))
        if level != 0 or fmt != "decimal" or "%1" not in text:
            return ""
        self._counts[num_id] = self._counts.get(num_id, 0) + 1
        return text.replace("%1", str(self._counts[num_id])) + " "

    @staticmethod
    def _num_pr(p_pr):
        return p_pr.numPr if p_pr is not None else None


def _odt_text(path: Path, raw: bytes) -> str:
    from odf import teletype
    from odf.opendocument import load

    with zipfile.ZipFile(path) as archive:
        manifest = archive.read("META-INF/manifest.xml") if "META-INF/manifest.xml" in archive.namelist() else b""
    if b"encryption-data" in manifest:
        raise Unreadable("is password-protected; save it again without a password")
    blocks: list[str] = []

    def walk(node) -> None:   # paragraphs and headings in order; page headers live in styles, not here
        for child in node.childNodes:
            if getattr(child, "qname", (None, None))[1] in ("p", "h"):
                blocks.append(teletype.extractText(child))
            elif child.nodeType == child.ELEMENT_NODE:
                walk(child)

    walk(load(str(path)).text)
    return _joined(blocks)


def _rtf_text(path: Path, raw: bytes) -> str:
    from striprtf.striprtf import rtf_to_text

    if not raw.lstrip().startswith(b"{\\rtf"):
        raise Unreadable("is not an RTF file (damaged or renamed); save it again as .rtf")
    return rtf_to_text(raw.decode("latin-1"), errors="ignore")


def _pdf_text(path: Path, raw: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(path)
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("")   # many PDFs are "encrypted" with an empty user password
        except Exception:   # noqa: BLE001  - an unsupported cipher is a password we do not have
            opened = 0
        if not opened:
            raise Unreadable("is password-protected; save it again without a password")
    pages = [(page.extract_text() or "").splitlines() for page in reader.pages]
    if not any(line.strip() for lines in pages for line in lines):
        raise Unreadable("has no text layer (a scanned image?); ask for the typed file or a text-based PDF")
    return "\n".join(_dehyphenated(_without_page_furniture(pages)))


def _without_page_furniture(pages: list[list[str]]) -> list[str]:
    """The lines of every page without its running header and footer: page numbers, the date and
    URL a browser prints, and a line repeated at the top or bottom of every page."""
    repeated: set[str] = set()
    if len(pages) > 1:
        for edge in (0, -1):
            lines = [page[edge].strip() for page in pages if page]
            if len(lines) == len(pages) and len(set(lines)) == 1:
                repeated.add(lines[0])
    kept = []
    for page in pages:
        stripped = [line for line in page if line.strip()]
        for index, line in enumerate(stripped):
            edge = index < 2 or index >= len(stripped) - 2
            # NFKC first: PDF text has ligatures ("ﬁle:///") that would hide a URL from the pattern
            if line.strip() in repeated or (edge and _PAGE_FURNITURE_RE.match(unicodedata.normalize("NFKC", line).strip())):
                continue
            kept.append(line)
    return kept


_PAGE_FURNITURE_RE = re.compile(
    r"^(?:(?:page\s*)?\d+\s*(?:/|of)\s*\d+|-?\s*\d+\s*-?"                      # 1/2, Page 1 of 2, - 3 -
    r"|(?:file|https?)://\S+(?:\s+\d+\s*/\s*\d+)?"                            # the URL line, maybe with 1/2
    r"|\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4},?\s+\d{1,2}:\d{2}(?:\s*[AaPp]\.?[Mm]\.?)?(?:\s+.{0,80})?)$",  # date, time, title
    re.IGNORECASE)


def _dehyphenated(lines: list[str]) -> list[str]:
    """Words broken across lines by the layout ("collectiv-" / "isation") joined again."""
    out: list[str] = []
    for line in lines:
        if out and re.search(r"[^\W\d_]-$", out[-1]) and re.match(r"[a-z]", line):
            out[-1] = out[-1][:-1] + line
        else:
            out.append(line)
    return out


class _HtmlText(HTMLParser):
    """Text of an HTML page's body: scripts, styles, the <head> (its <title>), header, footer and
    nav left out; block elements end a paragraph."""

    _SKIPPED = {"script", "style", "head", "title", "header", "footer", "nav", "template", "noscript"}
    _BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article",
               "blockquote", "pre", "ul", "ol", "table", "td", "th", "hr", "main", "body", "dd", "dt"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[list[str]] = [[]]
        self.skipping = 0

    def handle_starttag(self, tag, attrs) -> None:
        if tag in self._SKIPPED:
            self.skipping += 1
        elif tag in self._BLOCKS:
            self.blocks.append([])

    def handle_endtag(self, tag) -> None:
        if tag in self._SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self._BLOCKS:
            self.blocks.append([])

    def handle_startendtag(self, tag, attrs) -> None:
        if tag in self._BLOCKS:
            self.blocks.append([])

    def handle_data(self, data) -> None:
        if not self.skipping:
            self.blocks[-1].append(data)


def _html_text(path: Path, raw: bytes) -> str:
    parser = _HtmlText()
    parser.feed(_decoded(raw))
    parser.close()
    return _joined(" ".join("".join(block).split()) for block in parser.blocks)


def _joined(blocks) -> str:
    return "\n\n".join(block.strip() for block in blocks if block and block.strip())


# -- what a document carries besides the answer ------------------------------------------------

_LABEL_RE = re.compile(
    r"^\s*(?:student(?:'s)?\s*(?:name|id|number|no\.?)?|(?:full\s+|first\s+|last\s+|sur)?name|id|date|class|"
    r"course|module|teacher|tutor|subject|period|section|group|e-?mail(?:\s+address)?|candidate\s*(?:number|no\.?)?)"
    r"\s*[:：]\s*\S.{0,60}$", re.IGNORECASE)
_SENTENCE_END_RE = re.compile(r"[.!?]\s*$")


def strip_headers(text: str, student_id: str = "", names: tuple[str, ...] = (),
                  titles: tuple[str, ...] = ()) -> str:
    """`text` without its header and footer lines: "Name: ..." and similar labels in the first
    six or last three lines, and a short title line at the top that repeats the student id, a
    name, or one of `titles` (the question's id and prompt)."""
    lines = text.split("\n")
    content = [i for i, line in enumerate(lines) if line.strip()]
    edges = set(content[:6]) | set(content[-3:])
    wanted = {_words(t) for t in (student_id, *names, *titles) if _words(t)}
    for title in titles:   # q3 is also headed "Question 3", "Q 3"
        number = re.fullmatch(r"[^\W\d_]*\s*(\d+)", title.strip())
        if number:
            wanted |= {f"question {number.group(1)}", f"q {number.group(1)}"}
    drop = {i for i in edges if _LABEL_RE.match(lines[i])}
    for i in content[:4]:
        if i in drop:
            continue
        if not _is_title(lines[i], wanted):
            break
        drop.add(i)
    return "\n".join(line for i, line in enumerate(lines) if i not in drop).strip()


def _is_title(line: str, wanted: set[str]) -> bool:
    words = _words(line)
    if words in wanted:
        return True
    if not words or len(words.split()) > 12:
        return False
    # "Alice - q1", "Answer to Question 1 (alice)": short, not a sentence, naming one of them
    padded = f" {words} "
    return not _SENTENCE_END_RE.search(line) and any(f" {w} " in padded for w in wanted if len(w) > 1)


def _words(text: str) -> str:
    return " ".join(re.findall(r"[^\W_]+", text.casefold()))
