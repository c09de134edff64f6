"""Own pages matched to the entries other pages list: precise, and independent of load order."""

import shutil

from test_load_store import load

MODEL_DEVELOPMENT = (
    "https://w3id.org/airm-kg/mitigation/"
    "risk-sources-and-risk-management-measures-in-support-of-standards-for-general/model-development"
)


def links(store) -> set[tuple[str, str]]:
    rows = store.query(
        "SELECT ?own ?listed WHERE { GRAPH ?g { ?own owl:sameAs ?listed } "
        "FILTER(STRSTARTS(STR(?g), 'https://w3id.org/airm-kg/graph/derived/same-entry/')) }"
    )
    return {(r["own"].value.rsplit("/", 1)[1], r["listed"].value) for r in rows}


def test_corpus_links(settings, corpus):
    _, store = load(settings, corpus, skip_invalid=True)
    found = links(store)
    pages = {(own, listed) for own, listed in found if own.startswith("A")}
    # Each was checked by reading the pages: grouping entries whose section other pages list.
    assert {own for own, _ in pages} == {
        "A0598", "A0605", "A1516", "A2131", "A2143", "A2205", "A2206", "A2227",
    }  # fmt: skip
    assert ("A2205", MODEL_DEVELOPMENT) in found
    assert ("A2206", MODEL_DEVELOPMENT + "/data-related") in found
    assert len({listed for _, listed in found}) == len(found)
    # A1516 is A1525's listed "Perception-level output": the four children both pages list, each
    # under its own IRI, are the same entries too (read on both pages).
    perception = (
        "https://w3id.org/airm-kg/mitigation/a-first-principles-based-risk-assessment-framework"
        "-and-the-ieee-p3396-standard/perception-level-output"
    )
    children = found - pages
    assert children == {
        (name, f"{perception}/{name}")
        for name in (
            "detection-of-deepfakes",
            "enforce-usage-policies",
            "implement-content-filters",
            "refrain-from-malicious-use-or-unwarranted-trust-in-unverified-media",
        )
    }


def test_links_do_not_depend_on_load_order(tmp_path, corpus):
    pages = ["A2206.txt", "A2212.txt", "A2244.txt"]
    together, one_by_one = tmp_path / "together", tmp_path / "one-by-one"
    for folder in (together, one_by_one):
        folder.mkdir()
    for name in pages:
        shutil.copy(corpus / name, together / name)
    from kg.settings import Settings

    _, store_together = load(Settings(store=tmp_path / "s1"), together)
    settings = Settings(store=tmp_path / "s2")
    for name in reversed(pages):
        shutil.copy(corpus / name, one_by_one / name)
        _, store_one_by_one = load(settings, one_by_one)
    assert (
        links(store_together)
        == links(store_one_by_one)
        == {("A2206", MODEL_DEVELOPMENT + "/data-related")}
    )


def test_no_link_without_a_page_that_lists_the_entry(settings, tmp_path, corpus):
    (tmp_path / "one").mkdir()
    shutil.copy(corpus / "A2206.txt", tmp_path / "one" / "A2206.txt")
    _, store = load(settings, tmp_path / "one")
    assert links(store) == set()


def test_replacing_a_page_recomputes_its_document(settings, tmp_path, corpus):
    pages = tmp_path / "pages"
    pages.mkdir()
    for name in ("A2206.txt", "A2212.txt"):
        shutil.copy(corpus / name, pages / name)
    _, store = load(settings, pages)
    assert {own for own, _ in links(store)} == {"A2206"}
    page = pages / "A2206.txt"  # now classified under another category: no longer a match
    page.write_text(
        page.read_text(encoding="utf-8").replace(
            "Changes to the model's learned parameters, architecture, or training process, "
            "including modifications to training data that affect what the model learns.",
            "Modifications to training data composition, quality, and filtering that affect "
            "what the model learns.",
        ),
        encoding="utf-8",
    )
    _, store = load(settings, pages)
    assert links(store) == set()
