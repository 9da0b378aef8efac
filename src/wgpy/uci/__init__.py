"""UCI: the file format (syntax.py), typed wgpy configuration (schema.py), access (store.py)."""
