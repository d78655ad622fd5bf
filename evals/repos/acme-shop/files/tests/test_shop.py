import acme_shop


def test_version():
    assert acme_shop.__version__
