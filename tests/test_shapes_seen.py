"""The express lane's memory of slow query shapes."""

from kg.server.shapes_seen import MAX_SHAPED, SlowShapes, shape_of


def test_a_shape_is_the_query_without_constants_comments_and_layout():
    one = shape_of('SELECT ?s { ?s ?p "probe 1" FILTER(?o > 2.5e3) } # run 1')
    other = shape_of("SELECT ?s {\n  ?s ?p 'probe 22'\n  FILTER(?o > 7) }")
    assert one == other
    assert shape_of("SELECT ?s { ?s <urn:a> ?o }") != shape_of("SELECT ?s { ?s <urn:b> ?o }")


def test_slow_shapes_are_remembered_until_one_runs_fast():
    slow = SlowShapes()
    shape = shape_of("SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f }")
    assert not slow.is_slow(shape)
    slow.ran(shape, slow=True)
    assert slow.is_slow(shape)
    slow.ran(shape, slow=False)
    assert not slow.is_slow(shape)


def test_a_text_too_long_to_shape_counts_as_slow():
    shape = shape_of("ASK {} #" + "x" * MAX_SHAPED)
    assert shape is None and SlowShapes().is_slow(shape)
