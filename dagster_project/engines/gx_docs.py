"""Data Docs that render offline: GX's pages load Bootstrap, bootstrap-table, jQuery, Popper and Font Awesome from
CDNs (and the GX logo from GX's web assets, with the context's id in the URL). Opened offline, behind a proxy that
blocks them, or in an air-gapped deployment, the pages render unstyled. After GX builds them, every page of the
local site is rewritten to load copies shipped in this package (gx_static/, see its LICENSES.md) from the site's own
static/ folder; the GX logo becomes the copy GX itself puts there; the assets a page of ours never needs (Vega
charts, the date picker, the dark theme) are dropped rather than fetched. Links (<a href>) are left as they are:
following one is the reader's choice.

Rewriting is idempotent, and it is all local: nothing here or in the rewritten pages contacts the network.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

VENDOR = Path(__file__).with_name("gx_static")
SITE_FOLDER = "static/vendor"  # under the Data Docs site

# GX 1.x's CDN addresses (render/view/templates) -> our copies; an address not here is dropped.
LOCAL = {
    "maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "css/bootstrap.min.css",
    "stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "js/bootstrap.min.js",
    "code.jquery.com/jquery-3.7.1.min.js": "js/jquery.min.js",
    "cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "js/popper.min.js",
    "cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "css/fontawesome.min.css",
    "unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "css/bootstrap-table.min.css",
    "unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "js/bootstrap-table.min.js",
    "unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css": (
        "css/bootstrap-table-filter-control.min.css"
    ),
    "unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css": (
        "css/bootstrap-table-filter-control.min.css"
    ),
    "unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js": (
        "js/bootstrap-table-filter-control.min.js"
    ),
}
GX_IMAGES = "great-expectations-web-assets.s3.us-east-2.amazonaws.com/"
LOGO = "static/images/logo-long.png"  # GX copies its own static folder into the site

_TAG = re.compile(r"<(link|script|img)\b([^>]*)>(\s*</script>)?", re.IGNORECASE)
_REMOTE = re.compile(r"""\b(src|href)\s*=\s*["'](?:https?:)?//([^"']+)["']""", re.IGNORECASE)
_CSS_IMAGE = re.compile(r"""url\(\s*["']?(?:https?:)?//""" + re.escape(GX_IMAGES) + r"""[^"')]*["']?\s*\)""")
_INTEGRITY = re.compile(r"""\s+(integrity|crossorigin)\s*=\s*["'][^"']*["']""", re.IGNORECASE)


def remote_addresses(html: str) -> list[str]:
    """The remote addresses a page would load by itself (stylesheets, scripts, images; not links)."""
    tags = [m.group(2) for tag in _TAG.finditer(html) for m in _REMOTE.finditer(tag.group(2))]
    return tags + [m.group(0) for m in _CSS_IMAGE.finditer(html)]


def _rewrite(html: str, to_site: str) -> str:
    def tag(match: re.Match[str]) -> str:
        remote = _REMOTE.search(match.group(2))
        if remote is None:
            return match.group(0)
        address = remote.group(2)
        if match.group(1).lower() == "img":
            if not address.startswith(GX_IMAGES):
                return ""
            local = f"{to_site}/{LOGO}"
        elif address in LOCAL:
            local = f"{to_site}/{SITE_FOLDER}/{LOCAL[address]}"
        else:
            return ""
        attributes = _INTEGRITY.sub("", match.group(2))  # a hash of the CDN's file, not of our copy
        attributes = attributes.replace(remote.group(0), f'{remote.group(1)}="{local}"')
        return f"<{match.group(1)}{attributes}>{match.group(3) or ''}"

    return _CSS_IMAGE.sub(f"url('{to_site}/{LOGO}')", _TAG.sub(tag, html))


def localize(site: Path) -> None:
    """Copy the vendored assets into the site and point every page of it at them."""
    if not site.is_dir():
        return
    shutil.copytree(VENDOR, site / SITE_FOLDER, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.md"))
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        rewritten = _rewrite(html, Path(os.path.relpath(site, page.parent)).as_posix())
        if rewritten != html:
            page.write_text(rewritten, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """`python -m dagster_project.engines.gx_docs SITE`: localize a site GX built by itself (a checkpoint run from
    GX, outside `slo check`), e.g. gx/uncommitted/data_docs/local_site."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not Path(args[0]).is_dir():
        print("usage: python -m dagster_project.engines.gx_docs DATA_DOCS_SITE_FOLDER", file=sys.stderr)
        return 2
    localize(Path(args[0]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
