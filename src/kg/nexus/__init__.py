"""The AI Atlas Nexus data (IBM, Apache-2.0), read into typed records for kg to import.

The data holds the MIT AI risk mitigation database v1 (831 records from 13 documents, with their
v1 categories), the MIT AI Risk Repository's domain and causal taxonomies, and NIST AI 600-1: its
12 generative-AI risks and its 212 AI RMF actions. `kg.nexus.package` finds the files (a folder,
the pinned wheel or an installed package), `kg.nexus.read` reads them into the records of
`kg.nexus.records`, and reports upstream faults it repairs as warnings rather than failing.

Records refer to each other by their Nexus ids (`A0086_Future_of_Life_Institute2024`,
`mit-draft-ai-risk-mitigation-group-1.1`, `GV-1.1-001`), never by the number inside one: a Nexus
number is not a navigator page ID.
"""
