"""The SPARQL 1.1 endpoint and linked-data service (`kg serve`).

Process model: one uvicorn process runs the FastAPI app and its event loop, which only reads
requests, checks caches and awaits answers. Queries, exports and statistics run in a pool of worker
processes (`pool`), updates in a pool of one. Each task names the store snapshot it reads;
snapshots are immutable once live, so workers open them read-only while a writer (an update
here, or `kg load` elsewhere) prepares the next one. A task past its time limit, or whose client
went away, is stopped by terminating its worker process, which the pool replaces.
"""
