"""`linli demo` serves where `linli serve` would: LINLI_HOST and LINLI_PORT, else
127.0.0.1:8000."""

from linli.demo.management.commands.demo import Command as DemoCommand
from linli.ops.management.commands.serve import Command as ServeCommand


def parsed_defaults(command) -> tuple[str, int]:
    options = command.create_parser("linli", "x").parse_args([])
    return options.host, options.port


def test_demo_takes_host_and_port_from_the_environment_as_serve_does(monkeypatch):
    monkeypatch.delenv("LINLI_HOST", raising=False)
    monkeypatch.delenv("LINLI_PORT", raising=False)
    assert parsed_defaults(DemoCommand()) == ("127.0.0.1", 8000)
    monkeypatch.setenv("LINLI_HOST", "0.0.0.0")
    monkeypatch.setenv("LINLI_PORT", "8123")
    assert parsed_defaults(DemoCommand()) == ("0.0.0.0", 8123)
    assert parsed_defaults(ServeCommand()) == ("0.0.0.0", 8123)
