"""Example queries the SPARQL page offers (the prefixes kg:, skos:, dcterms: … are declared)."""

EXAMPLES: list[tuple[str, str]] = [
    (
        "Mitigations per top-level category",
        """SELECT ?category ?label (COUNT(DISTINCT ?m) AS ?mitigations) WHERE {
  ?category skos:topConceptOf <https://w3id.org/airm-kg/taxonomy/mitigation> ;
            skos:prefLabel ?label .
  ?m a kg:Mitigation ; kg:category/skos:broader* ?category .
}
GROUP BY ?category ?label
ORDER BY DESC(?mitigations)""",
    ),
    (
        "Mitigations with their stage, actor and RMF function",
        """SELECT ?m ?code ?stage ?actor ?function WHERE {
  ?m a kg:Mitigation ; kg:category/skos:notation ?code .
  OPTIONAL { ?m kg:lifecycleStage/skos:prefLabel ?stage }
  OPTIONAL { ?m kg:actor/skos:prefLabel ?actor }
  OPTIONAL { ?m kg:rmfFunction/skos:prefLabel ?function }
}
ORDER BY ?code
LIMIT 100""",
    ),
    (
        "Source documents by number of mitigations",
        """SELECT ?document ?title (COUNT(DISTINCT ?m) AS ?mitigations) WHERE {
  ?m a kg:Mitigation ; kg:sourceDocument ?document .
  OPTIONAL { ?document dcterms:title ?title }
}
GROUP BY ?document ?title
ORDER BY DESC(?mitigations)""",
    ),
    (
        "Quoted text that mentions evaluation",
        """SELECT ?m ?text WHERE {
  ?m kg:quotation ?text .
  FILTER(CONTAINS(LCASE(?text), "evaluat"))
}
LIMIT 50""",
    ),
    (
        "Everything said about one category (CONSTRUCT)",
        """CONSTRUCT { ?c ?p ?o } WHERE {
  BIND(<https://w3id.org/airm-kg/taxonomy/mitigation/2.2> AS ?c)
  ?c ?p ?o
}""",
    ),
]
