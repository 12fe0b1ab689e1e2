from tests.fakes.fixtures import _loopback_only, allow_loopback, fake_server

__all__ = ["_loopback_only", "allow_loopback", "fake_server"]
