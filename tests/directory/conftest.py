import pytest


@pytest.fixture
def renders(monkeypatch):
    """The calls that rendered a Meeting Guide feed from the database (their arguments)."""
    from mutualaid.directory import feeds_views

    calls = []
    original = feeds_views.iter_feed

    def counting(**kwargs):
        calls.append(kwargs)
        return original(**kwargs)

    monkeypatch.setattr(feeds_views, "iter_feed", counting)
    return calls
