"""Text edits that restructure a Dockerfile: move instructions (with the comments that belong
to them), insert new instructions in the file's own style, split a RUN. Passes that reorder
steps or split stages build their fixes from these, so the same engine and guard check them
as every other byte-range edit."""
