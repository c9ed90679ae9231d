"""Sphinx configuration of the vkdispatch documentation.

Build: python -m sphinx -W -b html docs docs/_build/html (tests/test_docs.py does this).
The code examples are files in docs/examples/, included with literalinclude and run on
every backend by tests/test_docs.py."""
import os
import re
import shutil
import sys

DOCS = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(DOCS))     # document this checkout's vkdispatch

import vkdispatch  # noqa: E402

project = "vkdispatch"
copyright = "the vkdispatch authors"
version = release = vkdispatch.__version__

extensions = ["sphinx.ext.autodoc", "sphinx.ext.autosummary"]
exclude_patterns = ["_build", "examples", "parity"]
# The library's docstrings mark code with single backticks.
default_role = "literal"
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autosummary_generate = False      # tables only: the entries are on the API pages
html_theme = "alabaster"
html_theme_options = {"description": "GPU kernels in Python on Vulkan, CUDA and OpenCL",
                      "fixed_sidebar": True}
html_static_path = []


# vkdispatch's docstrings are plain text: hanging indents continue a line, and an
# indented block after a blank line is code. As reStructuredText both would be errors
# (unexpected indentation) or block quotes, so they are rewritten before parsing.
_FIELD = re.compile(r"^[`\w][\w`.,/*()\[\] -]{0,40}: \S")


# `name`s: an inline literal followed by a letter needs an escaped space in RST
_GLUED = re.compile(r"(?<!`)(`[^`\s][^`]*`)(?=\w)")


def _inline(line: str) -> str:
    return _GLUED.sub(r"\1\\ ", line)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def plain_text_to_rst(lines: list) -> list:
    out, para_indent, literal, blank_before, last = [], None, None, True, ""
    for line in lines:
        if not line.strip():
            out.append("")
            blank_before = True
            continue
        ind = _indent(line)
        if literal is not None:
            if ind > literal:
                out.append(line)
                blank_before = False
                continue
            literal = None
            if not blank_before:
                out.append("")
        elif para_indent is not None and ind > para_indent:
            if blank_before:              # code: a literal block
                if not last.rstrip().endswith("::"):
                    out.extend(["::", ""])
                literal = para_indent
                out.append(line)
                blank_before = False
                continue
            out[-1] = out[-1].rstrip() + " " + _inline(line.strip())   # a hanging indent
            last = out[-1]
            continue
        out.append(_inline(line))
        para_indent, last, blank_before = ind, line, False
    return _field_lists(out)


def _field_lists(lines: list) -> list:
    """A paragraph of 'name: text' lines becomes a bullet list (one item per line)."""
    out, para = [], []
    for line in lines + [""]:
        if line.strip() and not line.startswith(" ") and line != "::":
            para.append(line)
            continue
        if len(para) >= 2 and all(_FIELD.match(p) for p in para):
            para = ["* " + p for p in para]
        out.extend(para)
        para = []
        out.append(line)
    return out[:-1]


def rewrite_docstring(app, what, name, obj, options, lines):
    lines[:] = plain_text_to_rst(lines)


def copy_parity_tables(app, exception):
    """docs/parity/ (Markdown) goes into the site as it is, at parity/."""
    if exception is None and app.builder.format == "html":
        shutil.copytree(os.path.join(DOCS, "parity"), os.path.join(app.outdir, "parity"),
                        dirs_exist_ok=True)


def setup(app):
    app.connect("autodoc-process-docstring", rewrite_docstring)
    app.connect("build-finished", copy_parity_tables)
