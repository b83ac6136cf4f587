"""Documents built at test time with the real libraries (no binary fixtures): each writer takes
a list of paragraphs and a path."""

from __future__ import annotations

import html
from pathlib import Path


def write_txt(paragraphs: list[str], path: Path) -> Path:
    path.write_text("\n\n".join(paragraphs), encoding="utf-8")
    return path


def write_docx(paragraphs: list[str], path: Path, header: str = "") -> Path:
    import docx

    document = docx.Document()
    if header:
        document.sections[0].header.paragraphs[0].text = header
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    document.save(str(path))
    return path


def write_odt(paragraphs: list[str], path: Path) -> Path:
    from odf.opendocument import OpenDocumentText
    from odf.text import P

    document = OpenDocumentText()
    for paragraph in paragraphs:
        document.text.addElement(P(text=paragraph))
    document.save(str(path))
    return path


def write_rtf(paragraphs: list[str], path: Path) -> Path:
    def escaped(text: str) -> str:
        out = text.replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}")
        return "".join(ch if ord(ch) < 128 else f"\\u{ord(ch)}?" for ch in out)

    body = "".join(f"{{\\pard {escaped(p)}\\par}}\n" for p in paragraphs)
    path.write_text("{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Times New Roman;}}\n" + body + "}", encoding="ascii")
    return path


def write_html(paragraphs: list[str], path: Path, title: str = "Answer") -> Path:
    body = "".join(f"<p>{html.escape(p)}</p>\n" for p in paragraphs)
    path.write_text(f"<!DOCTYPE html><html><head><title>{html.escape(title)}</title>"
                    f"<style>p {{ margin: 1em }}</style></head><body>\n{body}"
                    "<footer>Printed from the course site</footer></body></html>", encoding="utf-8")
    return path


def write_pdf(paragraphs: list[str], path: Path, password: str = "", footer: str = "") -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_auto_page_break(True, margin=20)
    if footer:
        pdf.footer = lambda: (pdf.set_y(-15), pdf.cell(0, 10, f"{footer} {pdf.page_no()}/{{nb}}"))
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    for paragraph in paragraphs:
        pdf.multi_cell(0, 6, paragraph.translate(_LATIN1))
        pdf.ln(4)
    if password:
        pdf.set_encryption(owner_password="owner", user_password=password)
    pdf.output(str(path))
    return path


def write_scanned_pdf(path: Path) -> Path:
    """A PDF page with a drawing and no text layer, as a scanner makes."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")
    pdf.output(str(path))
    return path


WRITERS = {".txt": write_txt, ".docx": write_docx, ".odt": write_odt, ".rtf": write_rtf,
           ".html": write_html, ".pdf": write_pdf}

# fpdf's built-in fonts are latin-1: typographic punctuation as the ASCII a text file would have
_LATIN1 = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})
