def test_imports():
    import pulse  # noqa: F401
