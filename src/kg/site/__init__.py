"""The linked-data site: every IRI kg mints dereferences to HTML for people and RDF for machines.

Data flow: a route (`routes`) maps a URL onto an IRI (`paths`) and negotiates a view
(`negotiation`); one task (`reads`, `search`) gathers everything the view shows in one worker
round trip; the server process renders it (`render`, Jinja2 templates with autoescape).
"""
