import engine


def test_every_public_name_resolves():
    for name in engine.__all__:
        assert getattr(engine, name) is not None, name


def test_unknown_names_raise_attribute_error():
    import pytest

    with pytest.raises(AttributeError):
        engine.no_such_thing  # noqa: B018
