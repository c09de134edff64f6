"""A page's data comes from one task, run once per page: the routes hand every read to
`Executor.run`, here replaced by an in-process runner that records what it is given."""

import pytest
from site_store import SAMPLE, load_store
from starlette.testclient import TestClient

from kg.server.app import create_app
from kg.server.task import Lane, Task
from kg.settings import Settings

BROWSER = "text/html"
PAGES = [
    "/",
    "/coverage?by=actor",
    "/search?q=privacy",
    "/ontology",
    "/mitigation/cac39ab0120a2",
    "/mitigation/cac39ab0120a2.ttl",
    "/document/large-language-model-safety-a-holistic-survey",
    "/taxonomy/mitigation/2.4",
    "/taxonomy/mitigation",
    "/taxonomy/stage/build-and-use-model",
    "/author/shi-dan",
    "/heading/large-language-model-safety-a-holistic-survey",
    "/graph/file/000_a0a8653dee302dd3.txt",
]


class InProcess:
    """Runs tasks in the test's process, as a worker would, and records them."""

    def __init__(self) -> None:
        self.tasks: list[Task] = []

    async def run(self, task: Task):
        self.tasks.append(task)
        return task.run()


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    store = load_store(tmp_path_factory.mktemp("read-path") / "store", SAMPLE)
    runner = InProcess()
    with TestClient(create_app(Settings(store=store), executor=runner)) as http:
        yield http, runner


#: The pages of the kinds the AI Atlas Nexus data brings (over `nexus_store`).
NEXUS_PAGES = [
    "/",
    "/coverage?by=document",
    "/coverage?by=risk",
    "/search?v1=1.1&risk=confabulation",
    "/mitigation/nexus/A0719_NIST2024",
    "/mitigation/A1379",
    "/document/nexus/nist-ai-600-1",
    "/taxonomy/mitigation-v1/1",
    "/taxonomy/mitigation-v1",
    "/taxonomy/genai-risk/confabulation",
    "/taxonomy/risk-domain/1",
    "/taxonomy/rmf-function/gv-1",
    "/taxonomy/rmf-function/gv-1.1",
    "/taxonomy/rmf-function/gv-1.1-001",
    "/taxonomy/rmf-function",
    "/taxonomy/actor-task/tevv",
    "/mapping/mitigation-v1-v2/1.2/2.2.1",
    "/graph/derived/crosswalk/mitigation-v1-v2",
]


@pytest.fixture(scope="module")
def nexus_app(nexus_store):
    runner = InProcess()
    with TestClient(create_app(Settings(store=nexus_store), executor=runner)) as http:
        yield http, runner


@pytest.mark.parametrize("path", PAGES)
def test_a_page_is_one_task(app, path):
    assert_one_task(app, path)


@pytest.mark.shared
@pytest.mark.parametrize("path", NEXUS_PAGES)
def test_a_page_of_the_nexus_data_is_one_task(nexus_app, path):
    assert_one_task(nexus_app, path)


def assert_one_task(app, path: str) -> None:
    http, runner = app
    if path.startswith("/search"):
        http.get("/search?q=first")  # builds the index of this data version (tested below)
    runner.tasks.clear()
    answer = http.get(path, headers={"Accept": BROWSER})
    assert answer.status_code == 200, answer.text
    assert len(runner.tasks) == 1, [type(t).__name__ for t in runner.tasks]
    assert runner.tasks[0].lane is Lane.READ
    again = http.get(path, headers={"Accept": BROWSER})
    assert again.headers["x-cache"] == "hit" and len(runner.tasks) == 1


def test_every_task_names_the_snapshot_it_reads(app):
    http, runner = app
    runner.tasks.clear()
    http.get("/mitigation/cac39ab0120a2.nt")
    (task,) = runner.tasks
    assert task.snapshot.version.startswith("gen-") and task.snapshot.directory


def test_the_first_search_of_a_data_version_builds_its_index_in_the_whole_graph_lane(tmp_path):
    store = load_store(tmp_path / "store", SAMPLE)
    runner = InProcess()
    with TestClient(create_app(Settings(store=store), executor=runner)) as http:
        assert http.get("/search?q=privacy").status_code == 200
        assert [type(t).__name__ for t in runner.tasks] == ["SearchTask", "IndexTask", "SearchTask"]
        assert runner.tasks[1].lane is Lane.WHOLE_GRAPH
        runner.tasks.clear()
        assert http.get("/search?q=model").status_code == 200
        assert [type(t).__name__ for t in runner.tasks] == ["SearchTask"]
