"""Packaged policy profiles (``<name>.yaml``); load one with ``load_profile("<name>")``.

This folder is a package only so that the YAML files ship with the distribution."""
