# -*- coding: utf-8 -*-
# Copyright: (c) monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role scripts under test: their paths, and import of a script that has no .py suffix."""

import importlib.machinery
import importlib.util
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def path(role, name):
    """Path of roles/<role>/files/<name>."""
    return os.path.join(ROOT, "roles", role, "files", name)


def load(role, name, module_name):
    """Import roles/<role>/files/<name> as module_name, without writing __pycache__ into the role's files/."""
    loader = importlib.machinery.SourceFileLoader(module_name, path(role, name))
    spec = importlib.util.spec_from_loader(module_name, loader)
    module = importlib.util.module_from_spec(spec)
    dont_write_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = dont_write_bytecode
    return module
