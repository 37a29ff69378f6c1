"""recipes.outermost: the paths a release copies, each once and none inside another."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from slimfile.analysis.recipes import Artefact, outermost

PATHS = st.lists(st.sampled_from(["app", "a", "b", "node_modules"]), max_size=3).map(lambda parts: "/" + "/".join(parts))


def _inside(path: str, folder: str) -> bool:
    return path.startswith(folder.rstrip("/") + "/")


@given(st.lists(PATHS, max_size=8))
def test_each_path_is_copied_once_by_itself_or_a_folder_above_it(paths):
    artefacts = [Artefact(p, p, why=str(i)) for i, p in enumerate(paths)]
    kept = outermost(artefacts)
    sources = [a.source for a in kept]
    assert len(set(sources)) == len(sources)
    assert not any(_inside(a, b) for a in sources for b in sources if a != b)
    assert all(p in sources or any(_inside(p, s) for s in sources) for p in paths)
    assert [a.why for a in kept] == sorted((a.why for a in kept), key=int)  # in their order, the first of each


def test_a_folder_written_after_its_files_replaces_them_in_one_copy():
    copies = [Artefact("/srv/data/seed.json", "/srv/data/seed.json"), Artefact("/srv/other", "/srv/other"), Artefact("/srv/data", "/srv/data")]
    assert [a.source for a in outermost(copies)] == ["/srv/other", "/srv/data"]
