"""The JSON-LD context of kg's terms, made from the ontology: every class and property of kg.ttl by
its local name (`category`, `quotation`, `Mitigation`), object properties as IRIs, English text
properties as plain strings, typed values with their datatype; and kg's prefixes, those of the
vocabularies it uses and is aligned to. The site serves it at `/ontology/context.jsonld` and its
JSON-LD views are compacted with it, so `{"category": ".../taxonomy/mitigation/2.2.2"}` reads as
the graph says.
"""

from pyoxigraph import Store

from kg.vocab import KG_NS, PREFIXES, RDF_NS

OWL = "http://www.w3.org/2002/07/owl#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
LANG_STRING = RDF_NS + "langString"

TERMS = """
SELECT ?term ?kind ?range WHERE {
  VALUES ?kind { owl:Class owl:ObjectProperty owl:DatatypeProperty owl:AnnotationProperty }
  ?term a ?kind .
  OPTIONAL { ?term rdfs:range ?range }
  FILTER(STRSTARTS(STR(?term), STR(kg:)))
}"""


def context(store: Store) -> dict:
    """The context, from the ontology as the store holds it."""
    terms: dict[str, dict | str] = {"id": "@id", "type": "@type"}
    terms |= {prefix: namespace for prefix, namespace in sorted(PREFIXES.items())}
    rows = store.query(TERMS, prefixes={"owl": OWL, "rdfs": RDFS, "kg": KG_NS})
    found: dict[str, tuple[str, str | None]] = {}
    for row in rows:
        iri, kind = row["term"].value, row["kind"].value
        value_range = row["range"].value if row["range"] is not None else None
        found[iri] = (kind, value_range or found.get(iri, (kind, None))[1])
    for iri, (kind, value_range) in sorted(found.items()):
        terms[iri.removeprefix(KG_NS)] = _definition(iri, kind, value_range)
    return {"@context": terms}


def _definition(iri: str, kind: str, value_range: str | None) -> dict | str:
    if kind == OWL + "Class":
        return iri
    if kind == OWL + "ObjectProperty":
        return {"@id": iri, "@type": "@id"}
    if value_range == LANG_STRING:
        return {"@id": iri, "@language": "en"}
    if value_range and value_range != "http://www.w3.org/2001/XMLSchema#string":
        return {"@id": iri, "@type": value_range}
    return {"@id": iri}
