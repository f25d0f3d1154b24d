import pytest

from tests.factories import PATH_TO


@pytest.mark.parametrize("state", sorted(PATH_TO))
def test_factory_reaches_every_lifecycle_state_through_the_services(make, state):
    app = make.application(state)
    assert app.status == state
