"""The `slo` command. Each subcommand lives in its own module; this one parses, dispatches and reports errors.

Exit codes: 0 success; 1 an error-severity SLO failed; 2 invalid spec or usage; 3 runtime error (including bad
source data). Errors print as one line; --debug shows the traceback.
"""

from __future__ import annotations

import argparse
import sys
import traceback
import warnings
from collections.abc import Sequence
from typing import Any

from dagster_project.cli.startup import thaw, uncollected
from dagster_project.errors import EXIT_RUNTIME, EXIT_USAGE, SloError

EPILOG = """\
examples:
  slo run                                  build from fresh sample data ending now
  slo run --data-dir sample_data           build from the committed snapshot
  slo generate-data --out /tmp/src --orders 100000 --fault stale
  slo validate                             check the specs in slo_definitions/
  slo check --db .slo_state/warehouse.duckdb   evaluate the SLOs against a database
  slo init --db my.duckdb -o slo_definitions/my.yaml   a starter spec from your own tables
  slo store check                          is the results store whole (and backup -o FILE to copy it)

exit codes: 0 ok, 1 an error-severity SLO failed, 2 invalid spec or usage, 3 runtime error (e.g. bad source data)
"""


class _Version(argparse.Action):
    """`slo --version`: the installed package's version, looked up only when asked (importlib.metadata is slow)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("slo-monitor")
        except PackageNotFoundError:  # run from a source tree that is not installed
            number = "unknown (not installed)"
        print(f"slo {number}")
        parser.exit()


class _Parser(argparse.ArgumentParser):
    """Exit code 2 on usage errors, and help texts whose examples keep their line breaks."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(EXIT_USAGE)


class _Unused:
    """What a subcommand that is not being run gets instead of its parser: every call is accepted and ignored."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: self


class _Subcommands:
    """The subcommands' registry as each module's `register(sub)` sees it. Only the command being run (`chosen`) gets
    its whole parser (its options, help and subcommands); the others are listed by name and one-line help, which is
    all `slo --help` and argparse's choice check read. Building every option of every command cost ~15 ms a call."""

    def __init__(self, sub: Any, chosen: str | None) -> None:
        self._sub, self._chosen = sub, chosen

    def add_parser(self, name: str, **kwargs: Any) -> Any:
        if name == self._chosen:
            return self._sub.add_parser(name, **kwargs)
        self._sub.add_parser(name, help=kwargs.get("help"))
        return _Unused()


def _command(argv: Sequence[str]) -> str | None:
    """The subcommand named on the command line: its first word that is not an option (the top-level options take no
    value)."""
    return next((word for word in argv if not word.startswith("-")), None)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole parser; with `argv`, only the command it names is built whole (see _Subcommands)."""
    from dagster_project.cli import (
        check,
        dashboards,
        generate,
        init,
        interop,
        report,
        rules,
        run,
        schema,
        serve,
        tree,
        validate,
    )
    from dagster_project.cli import store as store_commands

    parser = _Parser(
        prog="slo",
        description="Data-platform SLO monitoring: build the Product Affinity data product and check its promises.",
        epilog=EPILOG,
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--version", action=_Version)
    real = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    real.required = True
    sub = real if argv is None else _Subcommands(real, _command(argv))
    for module in (generate, run, validate, check, init, schema, serve, rules, dashboards, tree, report):
        module.register(sub)
    store_commands.register(sub)
    interop.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    finally:
        # What start-up froze (cli/startup.py) is handed back to a caller that goes on (tests, a sensor calling
        # main(args)). Without arguments, main is the process's command line (`slo`, python -m) and the process ends
        # with it: thawing would only make the interpreter's shutdown walk and free all of it (0.4 s after a build).
        if argv is not None:
            from dagster_project.cli.specs import forget_remembered

            thaw()
            forget_remembered()  # the state folder's memories are this command's only


def _main(argv: Sequence[str] | None) -> int:
    warnings.filterwarnings("ignore", module="dagster")
    words = sys.argv[1:] if argv is None else argv
    with uncollected():
        parser = build_parser(words)
        args = parser.parse_args(words)
    try:
        code: int = args.handler(args)
        return code
    except SloError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:  # a file or folder the user named cannot be read or written: say which and why
        if args.debug:
            traceback.print_exc()
        where = exc.filename if exc.filename is not None else "file system"
        print(f"error: {where}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_RUNTIME
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so plainly, keep the traceback behind --debug
        if args.debug:
            traceback.print_exc()
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(
            f"error: unexpected {type(exc).__name__}: {first} (rerun with --debug for the traceback)", file=sys.stderr
        )
        return EXIT_RUNTIME


if __name__ == "__main__":
    sys.exit(main())
