"""The `kg` command: thin commands over the parser, loader and store.

Exit codes: 0 ok; 1 the data has errors (a file is not an entry, a load was rejected);
2 usage or runtime error (bad option, invalid query, unusable store).
"""

import json
import logging
import sys
from pathlib import Path

import click
from pydantic import ValidationError
from pyoxigraph import (
    NamedNode,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
    serialize,
)
from rich.console import Console
from rich.progress import track
from rich.table import Table

from kg.checks import WRITERS as CHECK_WRITERS
from kg.checks import check_files, check_store
from kg.errors import InputError, KgError
from kg.gate import DEFAULT_MAX_RESULTS, validate_files, validate_store
from kg.inputs import read_input
from kg.load import Loader, LoadReport
from kg.named_queries import ParameterError, load_queries
from kg.navigator import PageParser
from kg.nexus.package import locate as locate_nexus
from kg.reasoning import Regime
from kg.settings import Settings
from kg.sssom import crosswalk_rows, sssom_tsv
from kg.stats import store_stats
from kg.store import GraphStore
from kg.stores import open_store
from kg.taxonomy import load_vocabulary
from kg.validation import Engine, Severity, ValidationReport, Validator
from kg.validation_report import WRITERS, summary, write_text
from kg.vocab import PREFIXES, Iris

OK, DATA_ERROR, USAGE_ERROR = 0, 1, 2
#: Show a progress bar from this many files on.
PROGRESS_FROM = 50
EXPORT_FORMATS = {
    "turtle": RdfFormat.TURTLE,
    "ntriples": RdfFormat.N_TRIPLES,
    "nquads": RdfFormat.N_QUADS,
    "trig": RdfFormat.TRIG,
    "jsonld": RdfFormat.JSON_LD,
}
RESULT_FORMATS = {"csv": QueryResultsFormat.CSV, "json": QueryResultsFormat.JSON}

stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj


def _store(ctx: click.Context) -> GraphStore:
    return open_store(_settings(ctx))


def _settings_error(error: ValueError) -> click.UsageError:
    """Invalid settings, one line each: the variable and the rule, never the value given."""
    if not isinstance(error, ValidationError):  # pydantic-settings' SettingsError (bad JSON)
        return click.UsageError(str(error))
    problems = []
    for problem in error.errors(include_url=False, include_input=False):
        message = problem["msg"].removeprefix("Value error, ")
        variable = f"KG_{str(problem['loc'][0]).upper()}" if problem["loc"] else None
        named = variable is None or variable in message
        problems.append(message if named else f"{variable}: {message}")
    return click.UsageError("\n".join(problems))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--store",
    envvar="KG_STORE",
    help="Store directory, or a SPARQL engine as sparql+http://HOST:PORT (Oxigraph) or "
    "virtuoso+http://HOST:PORT  [env KG_STORE; default .kg/store]",
)
@click.option("--base-iri", envvar="KG_BASE_IRI", help="Base of data IRIs  [env KG_BASE_IRI]")
@click.version_option(package_name="kg")
@click.pass_context
def cli(ctx: click.Context, store: str | None, base_iri: str | None) -> None:
    """kg: a knowledge graph of AI risk mitigations."""
    overrides = {k: v for k, v in {"store": store, "base_iri": base_iri}.items() if v}
    try:
        ctx.obj = Settings(**overrides)
    except ValueError as error:
        raise _settings_error(error) from None


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--jsonl", is_flag=True, help="One JSON object per line instead of indented JSON.")
@click.pass_context
def parse(ctx: click.Context, files: tuple[Path, ...], jsonl: bool) -> None:
    """Parse navigator entry pages and print each entry as JSON."""
    settings = _settings(ctx)
    parser = PageParser(load_vocabulary(settings.ontology_dir))
    failed = False
    for path in files:
        try:
            entry = parser.parse_bytes(read_input(path, settings.max_file_bytes), path.name)
        except InputError as error:
            _print_input(f"error: {error}")
            failed = True
            continue
        indent = None if jsonl else 2
        click.echo(json.dumps(entry.to_json(), ensure_ascii=False, indent=indent))
    ctx.exit(DATA_ERROR if failed else OK)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Report files that are not entries and commit the rest (default: commit nothing).",
)
@click.option("-v", "--verbose", is_flag=True, help="List every warning.")
@click.pass_context
def load(ctx: click.Context, paths: tuple[Path, ...], skip_invalid: bool, verbose: bool) -> None:
    """Load entry pages (files or folders of *.txt) and the ontology into the store."""
    settings = _settings(ctx)
    validator = Validator.for_settings(settings)
    loader = Loader(settings, _store(ctx), validator, max_results=DEFAULT_MAX_RESULTS)
    sources = loader.vocabulary_sources() + loader.entry_sources(paths)

    def progress(items):
        return track(
            items,
            description="Loading",
            console=stderr,
            disable=len(sources) < PROGRESS_FROM,
            transient=True,
        )

    report = loader.load(sources, skip_invalid=skip_invalid, progress=progress)
    _print_load(ctx, report, verbose, f"{report.files} files: {report.entries} entries loaded")


@cli.command("import-nexus")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option(
    "--remove", is_flag=True, help="Remove the Nexus data from the store instead of importing it."
)
@click.option("-v", "--verbose", is_flag=True, help="List every warning.")
@click.pass_context
def import_nexus(ctx: click.Context, path: Path | None, remove: bool, verbose: bool) -> None:
    """Import the AI Atlas Nexus data from PATH (its wheel, or a folder of its data files), or
    from the installed ai-atlas-nexus when PATH is not given; --remove takes it out again."""
    settings = _settings(ctx)
    if remove and path is not None:
        raise click.UsageError("--remove takes no PATH: it removes whatever Nexus data is loaded")
    loader = Loader(settings, _store(ctx), Validator.for_settings(settings))
    if remove:
        report = loader.remove_nexus()
        _print_load(ctx, report, verbose, f"Nexus data: {report.files} file graphs removed")
        return
    try:
        source = locate_nexus(path, settings.max_file_bytes)
    except InputError as error:
        _print_input(f"error: {error}")
        ctx.exit(DATA_ERROR)
    report = loader.import_nexus(source)
    release = f"{source.release.package} {source.release.version} ({source.kind} {source.origin})"
    _print_load(
        ctx, report, verbose, f"{release}: {report.files} files, {report.entries} records read"
    )


@cli.command("import-ontology")
@click.argument("file", required=False, type=click.Path(path_type=Path))
@click.option(
    "--graph",
    "graph_iri",
    required=True,
    help="The named graph to hold it: an absolute IRI outside the base (e.g. https://w3id.org/airo).",
)
@click.option("--remove", is_flag=True, help="Remove the ontology imported into --graph.")
@click.pass_context
def import_ontology(ctx: click.Context, file: Path | None, graph_iri: str, remove: bool) -> None:
    """Import an external ontology (Turtle, N-Triples, RDF/XML or JSON-LD FILE) into its own
    named graph, as it is: its terms become queryable, kg's shapes leave its content alone."""
    settings = _settings(ctx)
    graph = _imported_graph(graph_iri, settings.base_iri)
    if remove == (file is not None):
        raise click.UsageError("give a FILE to import, or --remove without one")
    loader = Loader(settings, _store(ctx), Validator.for_settings(settings))
    if remove:
        report = loader.remove_ontology(graph)
        _print_load(ctx, report, False, f"removing {graph_iri}")
        return
    assert file is not None
    report = loader.import_ontology(file, graph)
    _print_load(ctx, report, False, f"{file} into {graph_iri}: 1 file")


@cli.command()
@click.argument("regime", type=click.Choice([r.value for r in Regime]))
@click.pass_context
def reason(ctx: click.Context, regime: str) -> None:
    """Materialize what RDFS or OWL 2 RL entail (none: stop) in graph/derived/inference; every
    later load or import reasons again in the same regime."""
    settings = _settings(ctx)
    loader = Loader(settings, _store(ctx), Validator.for_settings(settings))
    report = loader.reason(Regime(regime))
    _print_load(ctx, report, False, f"entailment regime {regime}")


def _imported_graph(iri: str, base_iri: str) -> NamedNode:
    """The graph an imported ontology goes in: an absolute IRI that is none of kg's own."""
    try:
        graph = NamedNode(iri)
    except ValueError:
        raise click.BadParameter(f"{iri!r} is not an IRI", param_hint="--graph") from None
    if Iris(base_iri).is_own(iri):
        message = f"expected an absolute IRI outside kg's base {base_iri} (its own graphs)"
        raise click.BadParameter(message, param_hint="--graph")
    return graph


def _print_load(ctx: click.Context, report: LoadReport, verbose: bool, what: str) -> None:
    """Errors, warnings (all with --verbose, else their count) and the SHACL summary of a load;
    exits with DATA_ERROR when nothing was committed."""
    for error in report.errors:
        _print_input(f"error: {error}")
    if verbose:
        for path, warnings in report.warnings.items():
            for warning in warnings:
                _print_input(f"warning: {path}: {warning}")
    validation = report.validation
    if validation is not None and (verbose or not validation.conforms):
        shown = validation if verbose else _violations_only(validation)
        write_text(shown, sys.stderr)
    rejected = not report.committed
    state = (
        "nothing committed, store unchanged"
        if rejected
        else f"{report.graphs} graphs written ({report.quads} triples)"
    )
    shapes = f"; shapes: {summary(validation)}" if validation is not None else ""
    stderr.print(
        f"{what}, {report.unchanged} unchanged, {len(report.errors)} rejected, "
        f"{report.warning_count} warnings{shapes}; {state}"
    )
    ctx.exit(DATA_ERROR if rejected else OK)


def _violations_only(report: ValidationReport) -> ValidationReport:
    kept = [r for r in report.results if r.severity == Severity.VIOLATION]
    return ValidationReport(kept, report.engine, report.omitted)


def _print_input(message: str) -> None:
    """Prints a message quoting file names as they are: a name like `[/x].txt` is not markup."""
    stderr.print(message, markup=False, emoji=False)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(list(WRITERS)),
    default="text",
    show_default=True,
    help="text for people; json, turtle (a SHACL validation report) or junit for tools and CI.",
)
@click.option(
    "--max-results",
    type=click.IntRange(min=0),
    default=DEFAULT_MAX_RESULTS,
    show_default=True,
    help="Results to list, violations first; the rest are counted.",
)
@click.option(
    "--engine",
    type=click.Choice([e.value for e in Engine]),
    envvar="KG_SHACL_ENGINE",
    help="SHACL engine  [env KG_SHACL_ENGINE; default turbo]",
)
@click.pass_context
def validate(
    ctx: click.Context,
    paths: tuple[Path, ...],
    output_format: str,
    max_results: int,
    engine: str | None,
) -> None:
    """Validate files (entry pages or RDF) with the ontology, or the store when none are given.

    Exit code 0 when the data conforms (warnings are listed), 1 on violations.
    """
    settings = _settings(ctx)
    validator = Validator.for_settings(settings, engine)
    if paths:
        report, errors = validate_files(settings, validator, paths, max_results)
    else:
        report, errors = validate_store(_store(ctx), validator, max_results), []
    for error in errors:
        _print_input(f"error: {error}")
    write, binary = WRITERS[output_format]
    write(report, sys.stdout.buffer if binary else sys.stdout)
    ctx.exit(DATA_ERROR if errors or not report.conforms else OK)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(list(CHECK_WRITERS)),
    default="text",
    show_default=True,
    help="text for people, json for tools and CI.",
)
@click.pass_context
def check(ctx: click.Context, paths: tuple[Path, ...], output_format: str) -> None:
    """Run the data-quality checks (queries/checks/*-violation.rq) on files, or on the store when
    none are given.

    Exit code 0 when no check returns a row, 1 when one does (or a file is not an entry).
    """
    settings = _settings(ctx)
    if paths:
        report, errors = check_files(settings, paths)
    else:
        report, errors = check_store(_store(ctx), settings), []
    for error in errors:
        _print_input(f"error: {error}")
    CHECK_WRITERS[output_format](report, sys.stdout)
    ctx.exit(DATA_ERROR if errors or not report.passed else OK)


@cli.command()
@click.argument("query", required=False)
@click.option("--name", "slug", help="Run the named query SLUG of queries/ (see `kg queries`).")
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="A parameter of the named query (repeatable); others take their defaults.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="For SELECT and ASK; CONSTRUCT and DESCRIBE always print Turtle.",
)
@click.pass_context
def query(
    ctx: click.Context,
    query: str | None,
    slug: str | None,
    params: tuple[str, ...],
    output_format: str,
) -> None:
    """Run a SPARQL query (text, or a path to a .rq file) or a named query on the store."""
    if (query is None) == (slug is None):
        raise click.UsageError("give a query (text or .rq file) or --name SLUG, not both")
    if slug is not None:
        sparql = _named_query(_settings(ctx), slug, params)
    elif params:
        raise click.UsageError("--param goes with --name")
    elif query.endswith(".rq"):
        path = Path(query)
        if not path.is_file():
            raise click.BadParameter(f"no such query file: {path}", param_hint="QUERY")
        sparql = path.read_text(encoding="utf-8")
    else:
        sparql = query
    result = _store(ctx).query(sparql)
    out = sys.stdout.buffer
    if isinstance(result, QuerySolutions | QueryBoolean) and output_format != "table":
        result.serialize(out, RESULT_FORMATS[output_format])
    elif isinstance(result, QueryBoolean):
        click.echo("true" if result else "false")
    elif isinstance(result, QuerySolutions):
        _print_table(result)
    else:
        serialize(result, out, RdfFormat.TURTLE, prefixes=PREFIXES)


def _named_query(settings: Settings, slug: str, params: tuple[str, ...]) -> str:
    """The named query's text with its parameters bound, or a usage error naming what is wrong."""
    queries = load_queries(settings.queries_dir)
    if slug not in queries:
        raise click.BadParameter(f"no query {slug!r}; `kg queries` lists them", param_hint="--name")
    given = {}
    for param in params:
        name, equals, value = param.partition("=")
        if not equals or not name.strip():
            raise click.BadParameter(f"{param!r}: expected NAME=VALUE", param_hint="--param")
        given[name.strip().lstrip("?")] = value
    notations = load_vocabulary(settings.ontology_dir).categories.keys()
    try:
        return queries[slug].bind(given, notations)
    except ParameterError as error:
        raise click.BadParameter(str(error), param_hint="--param") from None


@cli.command("queries")
@click.pass_context
def list_queries(ctx: click.Context) -> None:
    """List the named queries: slug, parameters (with defaults) and the question each answers."""
    table = Table("name", "parameters", "question")
    for named in load_queries(_settings(ctx).queries_dir).values():
        params = ", ".join(
            f"{p.name} ({p.type}{'' if p.default is None else ', default ' + p.default})"
            for p in named.params
        )
        table.add_row(named.slug, params, named.question)
    Console(highlight=False, width=200).print(table)


def _print_table(result: QuerySolutions) -> None:
    variables = [v.value for v in result.variables]
    table = Table(*variables)
    for row in result:
        table.add_row(*("" if row[v] is None else str(row[v]) for v in variables))
    Console(highlight=False, width=200).print(table)


@cli.command()
@click.option(
    "--format",
    "output_format",
    type=click.Choice(list(EXPORT_FORMATS)),
    default="nquads",
    show_default=True,
    help="turtle, ntriples and jsonld write the merged graph; nquads and trig keep named graphs.",
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File (default stdout)."
)
@click.pass_context
def export(ctx: click.Context, output_format: str, output: Path | None) -> None:
    """Export the whole graph."""
    rdf_format = EXPORT_FORMATS[output_format]
    if output is None:
        _store(ctx).export(sys.stdout.buffer, rdf_format)
        return
    with output.open("wb") as stream:
        _store(ctx).export(stream, rdf_format)


@cli.command()
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File (default stdout)."
)
@click.pass_context
def crosswalk(ctx: click.Context, output: Path | None) -> None:
    """Write the crosswalk from the v1 mitigation categories (AI Atlas Nexus) to the current ones
    as an SSSOM/TSV mapping set (the rows of the named query category-crosswalk)."""
    settings = _settings(ctx)
    rows = crosswalk_rows(_store(ctx), settings.queries_dir)
    if not rows:
        stderr.print("no mapping: the crosswalk needs navigator pages and the Nexus data loaded")
    text = sssom_tsv(rows, settings.base_iri)
    if output is None:
        click.echo(text.encode("utf-8"), nl=False)
        return
    output.write_text(text, encoding="utf-8", newline="")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def stats(ctx: click.Context, as_json: bool) -> None:
    """Count triples, graphs and resources per class."""
    numbers = store_stats(_store(ctx))
    if as_json:
        click.echo(json.dumps(numbers, indent=2))
        return
    table = Table("what", "count")
    table.add_row("triples (merged graph)", str(numbers["triples"]))
    table.add_row("quads (all graphs)", str(numbers["quads"]))
    table.add_row("named graphs", str(numbers["graphs"]))
    for name, count in numbers["classes"].items():
        table.add_row(name, str(count))
    Console(highlight=False).print(table)


@cli.command()
@click.option("--host", envvar="KG_HOST", help="Address to bind  [env KG_HOST; default 127.0.0.1]")
@click.option(
    "--port", type=click.IntRange(0, 65535), envvar="KG_PORT", help="[env KG_PORT; default 8000]"
)
@click.option(
    "--update-token",
    envvar="KG_UPDATE_TOKEN",
    help="Bearer token that enables SPARQL Update (read-only without); other local users see "
    "it with ps: prefer --update-token-file  [env KG_UPDATE_TOKEN]",
)
@click.option(
    "--update-token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="KG_UPDATE_TOKEN_FILE",
    help="File holding the update token  [env KG_UPDATE_TOKEN_FILE]",
)
@click.option(
    "--query-timeout",
    type=click.FloatRange(min=0, min_open=True),
    envvar="KG_QUERY_TIMEOUT",
    help="Seconds before a query is stopped with 503  [env KG_QUERY_TIMEOUT; default 10]",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    update_token: str | None,
    update_token_file: Path | None,
    query_timeout: float | None,
) -> None:
    """Serve the store: the site (every IRI a page, search, coverage), SPARQL at /sparql, dumps."""
    from kg.server.http import build_server

    given = {
        "host": host,
        "port": port,
        "update_token": update_token,
        "update_token_file": update_token_file,
        "query_timeout": query_timeout,
    }
    overrides = {key: value for key, value in given.items() if value is not None}
    base = _settings(ctx)
    try:
        settings = Settings(store=base.store, base_iri=base.base_iri, **overrides)
    except ValueError as error:
        raise _settings_error(error) from None
    access = logging.getLogger("kg.access")
    access.addHandler(logging.StreamHandler(sys.stderr))
    access.setLevel(logging.INFO)
    access.propagate = False
    server = build_server(settings)
    try:
        server.run()
    except KeyboardInterrupt:  # Ctrl-C: uvicorn stopped gracefully, then raised it again
        return
    if not server.started:  # uvicorn has logged why
        raise click.ClickException(f"the server did not start on {settings.host}:{settings.port}")


def main() -> None:
    try:
        # Without standalone mode, click returns the code given to ctx.exit() instead of exiting.
        code = cli.main(standalone_mode=False)
    except click.ClickException as error:
        error.show()
        sys.exit(USAGE_ERROR)
    except (click.Abort, KeyboardInterrupt):
        stderr.print("interrupted: nothing was committed by the unfinished command")
        sys.exit(USAGE_ERROR)
    except KgError as error:
        _print_input(f"error: {error}")
        sys.exit(DATA_ERROR if isinstance(error, InputError) else USAGE_ERROR)
    sys.exit(code if isinstance(code, int) else OK)
