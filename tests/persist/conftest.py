import pytest

from rustmemodb.persist import PersistApp


@pytest.fixture
def app():
    app = PersistApp.open()
    yield app
    app.close()
