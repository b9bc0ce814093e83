#!/usr/bin/env python
"""Build the monitoring.stack documentation site into .cache/docs/html (`make docs` runs this, then the tests).

1. antsibull-docs writes the collection pages (one per role from meta/argument_specs.yml, one per module, one per
   filter from its sidecar plugins/filter/<name>.yml) into .cache/docs/src/collection, failing on any doc error.
2. The Markdown guides of docs/ are copied to .cache/docs/src/guides (myst-parser reads them) and the root page
   with its two tables of contents is written.
3. sphinx-build renders HTML with warnings as errors (-W --keep-going), configured by tests/docs/conf.py.

Offline except what pip installed: antsibull-docs reads the collection through ansible-doc from the
collections path of ansible.cfg (.cache/collections, `make collection`), and conf.py has no intersphinx.
Prints the seconds of each step.
"""

import argparse
import os
import pathlib
import shutil
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = ROOT / "tests" / "docs"
BIN = pathlib.Path(sys.executable).parent
COLLECTION = "monitoring.stack"
# The guides in the order of the site's table of contents; any other docs/*.md follows them alphabetically.
FIRST_GUIDES = ["inventory", "metrics", "exporters", "rules", "applications", "logs", "grafana", "backups",
                "runbooks", "contracts", "seeds", "awx", "performance", "benchmarks"]
LAST_GUIDES = ["CONTRIBUTING"]

INDEX = """\
monitoring.stack
================

A production-grade monitoring stack on ordinary VMs, as an Ansible collection. The
:doc:`collection reference <collection/index>` has a page for every role (its variables, from the role's
argument specs), every module and every filter; the guides explain how the pieces fit together.

.. toctree::
   :maxdepth: 1
   :caption: Reference

   collection/index

.. toctree::
   :maxdepth: 1
   :caption: Guides

{guides}
"""


def guides(docs):
    """Names (without .md) of the guides in docs/, in the site's order."""
    names = sorted(p.stem for p in docs.glob("*.md"))
    first = [n for n in FIRST_GUIDES if n in names]
    last = [n for n in LAST_GUIDES if n in names]
    return first + [n for n in names if n not in first and n not in last] + last


def run(step, cmd, env=None):
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, check=False)
    print("docs: %s took %.1f s" % (step, time.monotonic() - start), flush=True)
    if proc.returncode:
        sys.exit("docs: %s failed (exit %d): %s" % (step, proc.returncode, " ".join(map(str, cmd))))


def assemble(src):
    """Write the antsibull-docs pages, the guides and the root page into src (emptied first)."""
    if src.exists():
        shutil.rmtree(src)
    collection = src / "collection"
    collection.mkdir(parents=True)
    collection.chmod(0o755)  # antsibull-docs refuses a destination that others may write to
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    run("antsibull-docs collection", [
        str(BIN / "antsibull-docs"), "--config-file", str(HERE / "antsibull-docs.cfg"), "collection",
        "--use-current", "--squash-hierarchy", "--fail-on-error", "--no-add-antsibull-docs-version",
        "--dest-dir", str(collection), COLLECTION], env=env)
    (src / "guides").mkdir()
    names = guides(ROOT / "docs")
    for name in names:
        shutil.copyfile(ROOT / "docs" / (name + ".md"), src / "guides" / (name + ".md"))
    entries = "\n".join("   guides/%s" % name for name in names)
    (src / "index.rst").write_text(INDEX.format(guides=entries), encoding="utf-8")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / ".cache" / "docs"), help="build directory (default .cache/docs)")
    args = parser.parse_args()
    out = pathlib.Path(args.out).resolve()
    start = time.monotonic()
    assemble(out / "src")
    html = out / "html"
    if html.exists():
        shutil.rmtree(html)
    run("sphinx-build", [
        str(BIN / "sphinx-build"), "-b", "html", "-W", "--keep-going", "-q", "-j", "auto", "-n",
        "-c", str(HERE), "-d", str(out / "doctrees"), str(out / "src"), str(html)])
    print("docs: site built in %.1f s: %s" % (time.monotonic() - start, html / "index.html"))


if __name__ == "__main__":
    main()
