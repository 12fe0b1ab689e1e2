from tests.fakes.fixtures import _loopback_only, fake_server

__all__ = ["_loopback_only", "fake_server"]
