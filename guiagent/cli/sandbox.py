"""``guiagent sandbox``: disposable virtual desktops for people to look at; and the sandbox / VNC options of ``run``.

    guiagent sandbox shell --size 1280x800 --app xterm          # start one, print how to watch it, Ctrl-C ends it
    guiagent run "..." --env sandbox --sandbox-app "xterm -u8" --model ...
    guiagent run "..." --env vnc:localhost:5901 --model ...     # password (if any) in $GUIAGENT_VNC_PASSWORD
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from typing import Any

from rich.console import Console
from rich.markup import escape

from guiagent.cli import summary
from guiagent.cli.argtypes import flags_apply, positive_seconds
from guiagent.errors import ConfigError, GuiAgentError

KINDS = ("mock", "desktop", "sandbox", "vnc")

#: the sandbox / VNC flags of `run`, as (attribute, flag) pairs: refused with --env mock
REMOTE_FLAGS = (("sandbox_app", "--sandbox-app"), ("sandbox_vnc", "--sandbox-vnc"),
                ("vnc_password_env", "--vnc-password-env"), ("vnc_timeout", "--vnc-timeout"),
                ("vnc_reconnect", "--vnc-reconnect"), ("vnc_unicode", "--vnc-unicode"),
                ("remote_os", "--remote-os"))


def env_choice(text: str) -> str:
    """--env: mock, desktop, sandbox, or vnc:HOST:PORT."""
    if text in KINDS and text != "vnc":
        return text
    if text.startswith("vnc:"):
        from guiagent.envs.sandbox.workers import split_env_spec

        try:
            split_env_spec(text)
        except ConfigError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
        return text
    raise argparse.ArgumentTypeError(f"expected mock, desktop, sandbox or vnc:HOST:PORT, got {text!r}")


def add_remote_options(p: argparse.ArgumentParser) -> None:
    """Add the ``--env sandbox`` and ``--env vnc:HOST:PORT`` flags to ``p``."""
    g = p.add_argument_group("sandbox and VNC (--env sandbox, --env vnc:HOST:PORT)")
    g.add_argument("--sandbox-app", action="append", metavar="CMD", default=[],
                   help="start this program in the sandbox before the run, e.g. \"xterm -u8\" (repeatable; split "
                        "like a shell command line, never run by a shell). The sandbox size is --size "
                        "(default 1280x800)")
    g.add_argument("--sandbox-vnc", action="store_true", default=None,
                   help="also serve the sandbox over VNC (x11vnc) so you can watch; the port is printed")
    g.add_argument("--vnc-password-env", metavar="NAME",
                   help="environment variable holding the VNC password (default GUIAGENT_VNC_PASSWORD)")
    g.add_argument("--vnc-timeout", type=positive_seconds, metavar="S",
                   help="seconds the VNC server may take to answer before the run ends (default 15)")
    g.add_argument("--vnc-reconnect", type=positive_seconds, metavar="S",
                   help="seconds to keep reconnecting after the VNC connection drops (default 30)")
    g.add_argument("--vnc-unicode", choices=("auto", "keysym", "off"), default=None,
                   help="non-ASCII text over VNC: Unicode keysyms (keysym), refuse it (off), or keysym except on "
                        "servers known to drop them (auto, default)")
    g.add_argument("--remote-os", choices=("linux", "macos", "windows"), default=None,
                   help="the OS behind the VNC server: key names and the default deny list (default linux)")


def remote_env_options(args: argparse.Namespace, desktop: dict[str, Any]) -> dict[str, Any]:
    """``make_env`` options for --env sandbox / vnc:..., from the desktop ones ``run`` built; others unchanged."""
    kind = args.env
    sandbox_given = [flag for attr, flag in REMOTE_FLAGS[:2] if getattr(args, attr, None) not in (None, [])]
    vnc_given = [flag for attr, flag in REMOTE_FLAGS[2:] if getattr(args, attr, None) not in (None, [])]
    if kind in ("mock", "desktop"):
        if sandbox_given or vnc_given:
            raise ConfigError(f"{flags_apply(sandbox_given + vnc_given)} to --env sandbox / vnc:HOST:PORT only")
        return desktop
    keep = {k: v for k, v in desktop.items() if k in ("allow_hotkeys", "deny_hotkeys")}
    if kind == "sandbox":
        if vnc_given:
            raise ConfigError(f"{flags_apply(vnc_given)} to --env vnc:HOST:PORT only")
        if getattr(args, "monitor", None) is not None:
            raise ConfigError("--monitor does not apply to a sandbox (it has one screen; its size is --size)")
        width, height = args.size or (1280, 800)
        out = {"width": width, "height": height, "apps": list(args.sandbox_app or []) or None,
               "vnc": True if args.sandbox_vnc else None, "failsafe": False if args.failsafe is None else None,
               "unicode_method": desktop.get("unicode_method"), "scale": desktop.get("scale")}
        return {**keep, **{k: v for k, v in out.items() if v is not None}}
    # vnc:HOST:PORT
    if sandbox_given:
        raise ConfigError(f"{flags_apply(sandbox_given)} to --env sandbox only")
    for attr, flag in (("monitor", "--monitor"), ("failsafe", "--no-failsafe"), ("unicode_method", "--unicode-method")):
        if getattr(args, attr, None) is not None:
            raise ConfigError(f"{flag} does not apply to --env vnc (use --vnc-unicode for non-ASCII text)")
    if args.size:
        raise ConfigError("--size does not apply to --env vnc: the screen is the server's")
    from guiagent.envs.sandbox.workers import split_env_spec

    _, spec = split_env_spec(kind)
    out = {**spec, "password_env": args.vnc_password_env, "timeout": args.vnc_timeout,
           "reconnect_s": args.vnc_reconnect, "unicode": args.vnc_unicode, "remote_os": args.remote_os,
           "scale": desktop.get("scale")}
    return {**keep, **{k: v for k, v in out.items() if v is not None}}


# ---------------------------------------------------------------- guiagent sandbox shell


def register(subparsers: Any) -> None:
    """Add the ``sandbox`` sub-command (disposable virtual desktops: ``shell``) to the ``guiagent`` parser.

    Args:
        subparsers: the object ``ArgumentParser.add_subparsers`` returned.
    """
    from guiagent.cli.parse import screen_size

    p = subparsers.add_parser("sandbox", help=summary("sandbox"),
                              description="Disposable virtual desktops: their own Xvfb, a window manager, the apps "
                                          "you name, a temp HOME; everything ends when the command ends.")
    sub = p.add_subparsers(dest="sandbox_command", metavar="ACTION")
    s = sub.add_parser("shell", help="start a sandbox served over VNC, print how to watch it, wait for Ctrl-C",
                       description="Start a sandbox with x11vnc, print how to watch and drive it, and keep it "
                                   "until Ctrl-C (or --for S seconds). Everything it started ends, and its HOME is "
                                   "deleted, when the command ends.")
    s.add_argument("--size", type=screen_size, default=(1280, 800), metavar="WxH", help="screen size (1280x800)")
    s.add_argument("--app", action="append", default=[], metavar="CMD",
                   help="program to start in it, e.g. xterm (repeatable)")
    s.add_argument("--no-wm", action="store_true", help="no window manager")
    s.add_argument("--no-vnc", action="store_true", help="do not start x11vnc")
    s.add_argument("--keep-home", action="store_true", help="leave the temp HOME behind at the end")
    s.add_argument("--for", dest="duration", type=positive_seconds, metavar="S", help="end after S seconds")
    s.set_defaults(func=shell_main)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def shell_main(args: argparse.Namespace) -> int:
    """Run ``guiagent sandbox shell``: start a sandbox, print how to watch it and keep it until Ctrl-C or ``--for``.

    Everything the sandbox started is stopped, and its temporary HOME deleted, on the way out.

    Returns:
        0 after a normal end, 1 when the sandbox did not start or its supervisor died, 2 for bad options.
    """
    from guiagent.envs.sandbox import Sandbox, SandboxConfig

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    width, height = args.size
    try:
        config = SandboxConfig(width=width, height=height, apps=tuple(args.app),
                               window_manager=None if args.no_wm else "openbox", vnc=not args.no_vnc,
                               keep_home=args.keep_home)
        box = Sandbox(config)
    except ConfigError as e:
        console.print(f"[red]error:[/] {escape(str(e))}")
        return 2
    stop = {"now": False}

    def on_signal(signum: int, frame: object) -> None:
        stop["now"] = True

    old = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            box.start()
        except GuiAgentError as e:
            console.print(f"[red]could not start the sandbox:[/] {escape(str(e))}")
            return 1
        print(box.view_instructions(), flush=True)
        console.print("[dim]Ctrl-C ends the sandbox and everything in it[/]")
        deadline = time.monotonic() + args.duration if args.duration else float("inf")
        while not stop["now"] and time.monotonic() < deadline:
            if not box.running:
                console.print("[red]the sandbox supervisor exited[/]")
                return 1
            time.sleep(0.1)
        return 0
    finally:
        box.stop()
        for sig, handler in old.items():
            signal.signal(sig, handler)
        sys.stdout.flush()
