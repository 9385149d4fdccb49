"""HTTP shell: thin routes over the handler, the store and the read models."""
