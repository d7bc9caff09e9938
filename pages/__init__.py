"""NiceGUI pages, one module per area, each exposing `create(portal)`; thin: input, one use case, result."""
