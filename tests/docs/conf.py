"""Sphinx configuration of the monitoring.stack documentation site (`make docs`, tests/docs/build_site.py).

The sources are assembled in .cache/docs/src: the collection pages written by antsibull-docs (roles from their
argument_specs, modules, one page per filter from its sidecar docs) and the Markdown guides of docs/, read
through myst-parser. The build runs offline: no intersphinx, and the Read the Docs theme loads nothing from other sites.
"""

project = "monitoring.stack"
copyright = "monitoring.stack maintainers"  # pylint: disable=redefined-builtin
title = "monitoring.stack documentation"
html_short_title = "monitoring.stack docs"

extensions = ["sphinx_antsibull_ext", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"

# The Markdown guides link to each other's headings (`file.md#heading`) and to anchors in their own page.
myst_heading_anchors = 4
myst_enable_extensions = ["deflist"]

pygments_style = "ansible"
highlight_language = "YAML+Jinja"
default_role = "any"

html_theme = "sphinx_rtd_theme"
html_theme_options = {"collapse_navigation": True, "navigation_depth": 3}
html_show_sphinx = False
html_use_smartypants = True
html_use_modindex = False
html_use_index = False
html_copy_source = False
html_last_updated_fmt = None

# No network at build time: nothing resolves against other sites' inventories.
intersphinx_mapping = {}

# The collection pages refer to pages of the Ansible documentation (common return values, the file module, ...)
# by their labels there. Intersphinx would download that site's inventory; instead these labels become plain
# links to the pages on docs.ansible.com. Any other unresolved reference stays a warning, so an error.
ANSIBLE_DOCS = "https://docs.ansible.com/ansible/latest/"
ANSIBLE_LABELS = {
    "action_plugins": "plugins/action.html",
    "common_return_values": "reference_appendices/common_return_values.html",
    "ansible_configuration_settings": "reference_appendices/config.html",
}


def _ansible_docs_url(target):
    if target in ANSIBLE_LABELS:
        return ANSIBLE_DOCS + ANSIBLE_LABELS[target]
    parts = target.split(".")
    # ansible_collections.<namespace>.<name>.<plugin>_<type>: a plugin of another collection.
    if len(parts) == 4 and parts[0] == "ansible_collections" and parts[1:3] != ["monitoring", "stack"]:
        return ANSIBLE_DOCS + "collections/%s/%s/%s.html" % tuple(parts[1:])
    return None


def _resolve_ansible_label(app, env, node, contnode):  # pylint: disable=unused-argument
    from docutils import nodes  # pylint: disable=import-outside-toplevel

    url = _ansible_docs_url(node.get("reftarget", ""))
    if url is None or node.get("reftype") not in ("ref", "any"):
        return None
    reference = nodes.reference("", "", internal=False, refuri=url)
    reference.append(contnode)
    return reference


def setup(app):
    app.connect("missing-reference", _resolve_ansible_label)
