"""The Textual user interface: the app, its screens and widgets.

The only package that imports textual (tests/test_layers.py keeps it so).
"""
