"""--config's [env] kind takes exactly what --env takes (vnc:HOST:PORT included) and refuses what --env refuses
(a bare "vnc", which names no server) with the same message."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from guiagent.cli import build_parser, main
from guiagent.cli.runconfig import apply_run_config
from guiagent.errors import ConfigError


def _flag_error(value: str, capsys: pytest.CaptureFixture[str]) -> str | None:
    """What --env VALUE says when refused (the text after 'argument --env: '), or None when accepted."""
    capsys.readouterr()
    try:
        build_parser().parse_args(["run", "--env", value])
    except SystemExit:
        return capsys.readouterr().err.strip().splitlines()[-1].split("argument --env: ", 1)[1]
    return None


@pytest.mark.parametrize("value", ["mock", "desktop", "sandbox", "vnc:localhost:1", "vnc:10.0.0.5:5901"])
def test_config_kind_takes_what_env_takes(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _flag_error(value, capsys) is None
    args = build_parser().parse_args(["run"])
    apply_run_config(args, {"env": {"kind": value}}, "c.toml")
    assert args.env == value == build_parser().parse_args(["run", "--env", value]).env


@pytest.mark.parametrize("value", ["vnc", "vnc:", "vnc:host", "vnc:host:99999", "VNC:host:1", "bogus"])
def test_config_kind_refuses_what_env_refuses_with_the_same_message(value: str,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    message = _flag_error(value, capsys)
    assert message is not None
    args = build_parser().parse_args(["run"])
    with pytest.raises(ConfigError) as e:
        apply_run_config(args, {"env": {"kind": value}}, "c.toml")
    assert str(e.value) == f"c.toml: env.kind: {message}"
    assert args.env == "mock"


def test_config_kind_that_is_not_text_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"env.kind: expected mock, desktop, sandbox or vnc:HOST:PORT, got 5"):
        apply_run_config(build_parser().parse_args(["run"]), {"env": {"kind": 5}}, "c.toml")


def test_bare_vnc_in_a_config_file_is_a_one_line_usage_error(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[env]\nkind = "vnc"\n')
    assert main(["run", "x", "--model", "scripted", "--config", str(cfg), "--no-record"]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {cfg}: env.kind: expected mock, desktop, sandbox or vnc:HOST:PORT, got 'vnc'\n"


def test_vnc_server_from_a_config_file_is_the_one_connected_to(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as closed:  # bound, never listening: a connection to it is refused at once
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        cfg = tmp_path / "c.json"
        cfg.write_text(f'{{"env": {{"kind": "vnc:127.0.0.1:{port}"}}}}')
        assert main(["run", "x", "--model", "scripted", "--config", str(cfg), "--no-record"]) == 1
    err = capsys.readouterr().err
    assert f"cannot connect to the VNC server at 127.0.0.1:{port}" in err, err
