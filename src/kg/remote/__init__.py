"""kg on a SPARQL engine it does not run (Oxigraph server, Virtuoso, ...), behind the same store
interface as the embedded store, so loaders, validation, the CLI, the endpoint and the pages do
not know which one runs.

Reads go to the engine's query service (`reader.RemoteReader` answers what kg asks of a
pyoxigraph store: queries, quad patterns, graphs, dumps). Writes are prepared where kg can
check them: a working copy (an embedded store in `Settings.store_dir`) takes each commit exactly
as the embedded store does — derivations, inferences, SHACL — and only a commit that passed is
sent to the engine, as the change of the graphs it touched, with the data version (`version`):
an engine's first change is written in place, by the engine's bulk loader where it has one,
registered so that readers see none of it until it is versioned (`store.InPlaceLoad`); a later
one is one SPARQL Update request that also sets the version, or, when it is larger than a
request or the engine does not run a request as one transaction, uploaded into graphs of its own
through the graph store and then moved into place (`store.Staging`). What each engine guarantees
(`endpoints.ENGINES`, docs/scaling.md): Oxigraph applies a request in one transaction, so readers
see the whole commit or none of it; Virtuoso does not, so readers never see staged data but may
see a move in progress.
"""
