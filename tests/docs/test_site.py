"""The built documentation site (.cache/docs/html, `make docs`): every page is there, every internal link resolves,
and the role, filter, module and guide pages render in headless Chromium.

- Static: a page for every role (roles/*), every filter (its sidecar plugins/filter/<name>.yml), every module and
  every guide (docs/*.md); every href and src of every built HTML file that stays on the site names a file that
  exists and, with a #fragment, an id or name in that file; no page loads a script, style sheet or image from
  another site (the site works offline).
- Browser (tests/docs/browser.py, one Chromium over the DevTools pipe): each page loads without a script error
  or a failed load, its style sheets apply, its heading is the role's, filter's or guide's, and a role page shows
  every option of its main entry point, a filter page its input and every option of its sidecar docs.

DOCS_SITE points the tests at another built site.
"""

import html.parser
import os
import pathlib
import posixpath
import time
import urllib.parse

import pytest
import yaml

import browser

ROOT = pathlib.Path(__file__).resolve().parents[2]
SITE = pathlib.Path(os.environ.get("DOCS_SITE", ROOT / ".cache" / "docs" / "html")).resolve()
COLLECTION = "monitoring.stack"
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "meta" / "argument_specs.yml").is_file())
FILTERS = sorted(p.stem for p in (ROOT / "plugins" / "filter").glob("*.yml"))
MODULES = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py") if not p.name.startswith("_"))
GUIDES = sorted(p.stem for p in (ROOT / "docs").glob("*.md"))
EXTERNAL = ("http:", "https:", "mailto:", "ftp:", "data:", "javascript:")


def _yaml(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def _role_options(role):
    spec = _yaml(ROOT / "roles" / role / "meta" / "argument_specs.yml")["argument_specs"]["main"]
    return sorted(spec.get("options") or {})


def _filter_options(name):
    return sorted((_yaml(ROOT / "plugins" / "filter" / (name + ".yml"))["DOCUMENTATION"].get("options") or {}))


def _guide_title(name):
    """The first level-1 heading of docs/<name>.md as a browser shows it (no Markdown code marks)."""
    for line in (ROOT / "docs" / (name + ".md")).read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].replace("`", "").strip()
    return None


PAGES = ([("role", r, "collection/%s_role.html" % r) for r in ROLES]
         + [("filter", f, "collection/%s_filter.html" % f) for f in FILTERS]
         + [("module", m, "collection/%s_module.html" % m) for m in MODULES]
         + [("guide", g, "guides/%s.html" % g) for g in GUIDES]
         + [("index", "index", "index.html"), ("index", "collection", "collection/index.html")])


@pytest.fixture(scope="module", name="site")
def fixture_site():
    if not (SITE / "index.html").is_file():
        pytest.fail("no built site in %s: run `make docs` (or tests/docs/build_site.py) first" % SITE)
    return SITE


# ---- static checks --------------------------------------------------------
class _Page(html.parser.HTMLParser):
    """The anchors (id, name) and the outgoing references (tag, attribute, value) of one HTML file."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.anchors = set()
        self.refs = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key) and (key == "id" or tag == "a"):
                self.anchors.add(attrs[key])
        for key in ("href", "src"):
            if attrs.get(key) is not None:
                self.refs.append((tag, key, attrs[key], attrs.get("rel")))


def _parse(path, cache={}):  # pylint: disable=dangerous-default-value
    if path not in cache:
        page = _Page()
        page.feed(path.read_text(encoding="utf-8"))
        cache[path] = page
    return cache[path]


def test_every_role_filter_module_and_guide_has_a_page(site):
    assert len(ROLES) > 10 and len(FILTERS) > 40 and GUIDES, "the lists of what to document came out short"
    missing = [page[2] for page in PAGES if not (site / page[2]).is_file()]
    assert not missing, "pages missing from the site: %s" % ", ".join(missing)


def test_every_internal_link_resolves_and_nothing_loads_from_other_sites(site):
    start = time.monotonic()
    files = sorted(site.rglob("*.html"))
    problems, checked = [], 0
    for path in files:
        page = _parse(path)
        rel = path.relative_to(site).as_posix()
        for tag, attr, value, rel_attr in page.refs:
            value = value.strip()
            if value.lower().startswith(EXTERNAL) or value.startswith("//"):
                if attr == "src" or (tag == "link" and "stylesheet" in (rel_attr or "")):
                    problems.append("%s: <%s %s=%s> loads from another site" % (rel, tag, attr, value))
                continue
            if value.startswith("/"):
                problems.append("%s: %s=%s is absolute; it breaks when the site is opened from disk" % (rel, attr, value))
                continue
            parsed = urllib.parse.urlsplit(value)
            target = path if not parsed.path else (path.parent / urllib.parse.unquote(parsed.path)).resolve()
            checked += 1
            if site not in target.parents and target != site:
                problems.append("%s: %s leaves the site" % (rel, value))
            elif target.is_dir():
                if not (target / "index.html").is_file():
                    problems.append("%s: %s is a directory without index.html" % (rel, value))
            elif not target.is_file():
                problems.append("%s: %s -> missing file %s" % (rel, value, posixpath.relpath(target.as_posix(), site.as_posix())))
            elif parsed.fragment and target.suffix == ".html":
                fragment = urllib.parse.unquote(parsed.fragment)
                if fragment not in _parse(target).anchors:
                    problems.append("%s: %s -> no #%s in %s" % (rel, value, fragment, target.relative_to(site).as_posix()))
    print("links: %d internal references in %d files checked in %.1f s" % (checked, len(files), time.monotonic() - start))
    assert checked > 1000, "suspiciously few internal links (%d)" % checked
    assert not problems, "%d broken references:\n%s" % (len(problems), "\n".join(problems[:200]))


# ---- in the browser -------------------------------------------------------
# What a page shows, read in the page after it loaded: the heading, the texts of the elements that carry an id,
# whether the theme's style sheet applied (the side bar is laid out fixed), and the size of the visible text.
PAGE_STATE = """(() => {
  const h1 = document.querySelector('h1');
  const side = document.querySelector('.wy-nav-side');
  const ids = {};
  for (const el of document.querySelectorAll('[id]')) {
    ids[el.id] = el.getClientRects().length > 0 || (el.parentElement && el.parentElement.getClientRects().length > 0);
  }
  return {
    title: document.title,
    h1: h1 ? h1.innerText.replace(/[\uf000-\uf8ff]/g, '').trim() : null,
    styled: !!side && getComputedStyle(side).position === 'fixed',
    sheets: document.styleSheets.length,
    text: document.body.innerText.length,
    ids: ids,
    broken_images: [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src),
  };
})()"""


@pytest.fixture(scope="module", name="chromium")
def fixture_chromium(site):  # pylint: disable=unused-argument
    if not browser.chromium_path():
        pytest.fail("no chromium on PATH: apt-get install chromium (.ci/run installs it)")
    start = time.monotonic()
    with browser.Browser() as instance:
        yield instance
    print("\nchromium: %d pages in %.1f s" % (len(PAGES), time.monotonic() - start))


@pytest.mark.parametrize("kind,name,rel", PAGES, ids=["%s:%s" % page[:2] for page in PAGES])
def test_page_renders_in_chromium(site, chromium, kind, name, rel):
    errors = chromium.open((site / rel).as_uri())
    state = chromium.evaluate(PAGE_STATE)
    assert not errors, "%s: errors while loading:\n%s" % (rel, "\n".join(errors))
    assert state["styled"] and state["sheets"] >= 2, "%s: the theme's style sheets did not apply" % rel
    assert not state["broken_images"], "%s: images that did not load: %s" % (rel, state["broken_images"])
    assert state["text"] > 200, "%s: almost no visible text (%d characters)" % (rel, state["text"])
    visible = {key for key, shown in state["ids"].items() if shown}
    if kind == "role":
        assert state["h1"].startswith("%s.%s role" % (COLLECTION, name)), "%s: heading %r" % (rel, state["h1"])
        options = _role_options(name)
        hidden = [o for o in options if "parameter-main--" + o not in visible]
        assert not hidden, "%s: options not shown: %s" % (rel, ", ".join(hidden))
        if options:
            assert "parameters" in visible, "%s: no Parameters section" % rel
    elif kind == "filter":
        assert state["h1"].startswith("%s.%s filter" % (COLLECTION, name)), "%s: heading %r" % (rel, state["h1"])
        options = _filter_options(name)
        hidden = [o for o in options if "parameter-" + o not in visible]
        assert not hidden, "%s: inputs or options not shown: %s" % (rel, ", ".join(hidden))
        assert {"synopsis", "examples"} <= visible, "%s: no Synopsis or Examples section" % rel
    elif kind == "module":
        assert state["h1"].startswith("%s.%s module" % (COLLECTION, name)), "%s: heading %r" % (rel, state["h1"])
    elif kind == "guide":
        assert state["h1"] == _guide_title(name), "%s: heading %r, the guide's is %r" % (rel, state["h1"], _guide_title(name))
