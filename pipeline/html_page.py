"""A Markdown page as a standalone HTML page, rendered by Python-Markdown (a maintained
library; its ``tables`` extension for the pipe tables). The report step writes its
``report.md`` through this as ``report.html``."""
from __future__ import annotations

import html

import markdown

# Figures take the page's width (they are drawn at about 8 inches, 100-150 dpi), tables
# scroll sideways rather than squeeze their columns.
STYLE = """
body { font-family: sans-serif; max-width: 1000px; margin: 1em auto; padding: 0 1em;
       line-height: 1.4; color: #222 }
img { max-width: 100%; height: auto; display: block; margin: 0.5em 0 }
table { border-collapse: collapse; display: block; overflow-x: auto; margin: 0.5em 0 }
th, td { border: 1px solid #bbb; padding: 2px 8px; text-align: left }
th { background: #f2f2f2 }
code { background: #f4f4f4; padding: 0 3px }
h1, h2, h3 { margin-top: 1.2em }
"""


def markdown_page(md: str, title: str) -> str:
    """Return the HTML page of the Markdown text ``md`` with the window title ``title``
    (plain text)."""
    body = markdown.markdown(md, extensions=["tables"], output_format="html")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n"
            f"<body>\n{body}\n</body></html>\n")
