"""HTML from templates: one Jinja2 environment with autoescape on, and the filters that turn RDF
terms into links and text. Every value a page shows from the graph goes through autoescape; the
only markup made here (`link`, `term`, `marked`) escapes its parts itself."""

from importlib.resources import files

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape
from pyoxigraph import BlankNode, Literal, NamedNode

from kg.site.paths import Paths
from kg.vocab import PREFIXES, prefixed_name

#: Private-use characters that mark a search match's start and end in indexed text.
MARK_START, MARK_END = "\ue000", "\ue001"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
TEMPLATES = files("kg.site") / "templates"
STATIC = files("kg.site") / "static"


class Renderer:
    def __init__(self, paths: Paths) -> None:
        self.paths = paths
        self.env = Environment(
            loader=FileSystemLoader(str(TEMPLATES)),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals.update(
            href=paths.href, curie=curie, local_name=local_name, short=self.short
        )
        self.env.filters.update(marked=marked, number=lambda n: f"{n:,}")

    def page(self, template: str, **context: object) -> bytes:
        labels = context.get("labels") or {}
        context.setdefault("breadcrumbs", [])
        context.setdefault("alternates", [])
        context.update(
            label=lambda iri: labels.get(iri) or local_name(iri),
            link=lambda iri, text=None: self.link(iri, text or labels.get(iri)),
            term=lambda t: self.term(t, labels),
        )
        return self.env.get_template(template).render(**context).encode()

    def short(self, iri: str) -> str:
        """An IRI as a table shows it: a prefixed name, else its path here, else itself."""
        name = curie(iri)
        return name if name != iri else (self.paths.local(iri) or iri)

    def link(self, iri: str, text: str | None = None) -> Markup:
        shown = text or local_name(iri)
        return Markup('<a href="{}">{}</a>').format(self.paths.href(iri), shown)

    def term(self, term: object, labels: dict[str, str]) -> Markup:
        if isinstance(term, NamedNode):
            shown = labels.get(term.value) or self.paths.local(term.value) or curie(term.value)
            return self.link(term.value, shown)
        if isinstance(term, BlankNode):
            return Markup("<span class=blank>_:{}</span>").format(term.value)
        if isinstance(term, Literal):
            suffix = ""
            if term.language:
                suffix = Markup(" <span class=lang>@{}</span>").format(term.language)
            elif term.datatype.value != XSD_STRING:
                suffix = Markup(" <span class=datatype>{}</span>").format(
                    curie(term.datatype.value)
                )
            return Markup("<span class=literal>{}</span>{}").format(term.value, suffix)
        return escape(str(term))


#: Namespaces pages abbreviate: the queries' prefixes and a few the ontology's header uses.
SHOWN_PREFIXES = {
    **PREFIXES,
    "vann": "http://purl.org/vocab/vann/",
    "void": "http://rdfs.org/ns/void#",
    "dcat": "http://www.w3.org/ns/dcat#",
}


def curie(iri: str) -> str:
    """A prefixed name for an IRI in a known namespace, else the IRI."""
    return prefixed_name(iri, SHOWN_PREFIXES) or iri


def local_name(iri: str) -> str:
    """The last segment of an IRI, for things without a label."""
    return iri.rstrip("/").rsplit("#", 1)[-1].rsplit("/", 1)[-1] or iri


def marked(text: str) -> Markup:
    """Indexed text with its match markers as <mark> elements, everything else escaped."""
    escaped = str(escape(text))
    return Markup(escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>"))
