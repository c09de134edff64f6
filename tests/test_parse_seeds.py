"""Both seed pages, every field."""

from conftest import SAMPLE

TITLE = "Large Language Model Safety: A Holistic Survey"
AUTHORS = [
    "Shi, Dan", "Shen, Tianhao", "Huang, Yufei", "Li, Zhigen", "Leng, Yongqi", "Jin, Renren",
    "Liu, Chuang", "Wu, Xinwei", "Guo, Zishan", "Yu, Linhao", "Shi, Ling", "Jiang, Bojian",
    "Xiong, Deyi",
]  # fmt: skip
RELATED = [
    ("Value Misalignment", "99.9", "Other"),
    ("Value Misalignment > Mitigating social bias", "1", "AI System"),
    ("Value Misalignment > Privacy protection", "1", "AI System"),
    ("Value Misalignment > Methods for mitigating toxicity", "1", "AI System"),
    ("Value Misalignment > Methods for mitigating LLM amorality", "1", "AI System"),
    ("Robustness to attack", "1", "AI System"),
]


def _related(entry):
    return [(item.name, item.code, item.category_name) for item in entry.related]


def test_seed_research_entry(parser):
    entry = parser.parse_file(SAMPLE / "000_a0a8653dee302dd3.txt")
    assert entry.source_file == "000_a0a8653dee302dd3.txt"
    assert entry.id == parser.parse_file(SAMPLE / "000_a0a8653dee302dd3.txt").id
    assert entry.id.startswith("c") and len(entry.id) == 13
    assert entry.complete is True
    assert entry.warnings == []
    assert (entry.category.code, entry.category.name) == ("2.4.1", "Research & Foundations")
    assert entry.category.parent_name == "Engineering & Development"
    assert entry.category.definition.startswith("Foundational safety research")
    assert entry.body.startswith("Recent studies argue that LLMs exhibit emergent abilities")
    assert entry.body.count("\n") == 1  # two paragraphs
    assert entry.body.split("\n")[1].startswith("Grokking is a phenomenon")
    assert entry.reasoning == (
        "Foundational research investigating how LLM abilities generalize and emerge, "
        "informing model development understanding."
    )
    assert entry.parent_label is None
    assert entry.children == []
    assert _related(entry) == RELATED
    assert all(item.description is None for item in entry.related)
    assert entry.paper.title == TITLE
    assert entry.paper.authors == AUTHORS
    assert entry.paper.year == 2024
    assert entry.paper.abstract.startswith("The rapid development and deployment of large")
    assert (entry.lifecycle_stage.name, entry.lifecycle_stage.definition) == (
        "Build and Use Model",
        "Training, fine-tuning, and integrating the AI model",
    )
    assert (entry.actor.name, entry.actor.definition) == (
        "Developer",
        "Entity that creates, trains, or modifies the AI system",
    )
    assert (entry.rmf_function.name, entry.rmf_function.definition) == (
        "Measure",
        "Quantifying, testing, and monitoring identified AI risks",
    )


def test_seed_with_parent_label(parser):
    entry = parser.parse_file(SAMPLE / "001_af4fa749e00a25f6.txt")
    assert entry.complete is True
    assert entry.warnings == []
    assert (entry.category.code, entry.category.name, entry.category.parent_name) == (
        "1.1",
        "Model",
        "AI System",
    )
    assert entry.body.startswith("variety of methods are used at in the pre-training")
    assert entry.body.split("\n")[1].startswith("The differential privacy gradient")
    assert entry.reasoning.startswith("Applies privacy-protecting techniques during pre-training")
    assert entry.parent_label == "Privacy protection"
    assert entry.children == []
    assert _related(entry) == RELATED
    assert (entry.paper.title, entry.paper.year, entry.paper.authors) == (TITLE, 2024, AUTHORS)
    assert entry.lifecycle_stage.name == "Build and Use Model"
    assert entry.actor.name == "Developer"
    assert (entry.rmf_function.name, entry.rmf_function.definition) == (
        "Manage",
        "Prioritising, responding to, and mitigating AI risks",
    )


def test_json_record_has_exactly_the_documented_keys(parser):
    record = parser.parse_file(SAMPLE / "001_af4fa749e00a25f6.txt").to_json()
    assert list(record) == [
        "id", "source_file", "complete", "category", "body", "reasoning", "parent_label",
        "children", "related", "paper", "lifecycle_stage", "actor", "rmf_function", "warnings",
        "lines",
    ]  # fmt: skip
    assert record["lines"] == {
        "category": 3, "body": 5, "reasoning": 7, "paper": 16,
        "lifecycle_stage": 19, "actor": 21, "rmf_function": 23,
    }  # fmt: skip
    assert list(record["category"]) == ["code", "name", "parent_name", "definition"]
    assert list(record["related"][0]) == ["name", "description", "code", "category_name"]
    assert list(record["paper"]) == ["title", "authors", "year", "abstract"]
    assert list(record["actor"]) == ["name", "definition"]
