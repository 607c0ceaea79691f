"""`slo export openslo|sloth` and `slo import openslo`: the specs in other tools' formats, and OpenSLO back in
(docs/interop.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from dagster_project.cli.specs import add_slos_option, config_of, load_specs
from dagster_project.errors import EXIT_OK, UsageError

EXPORT_EPILOG = """\
examples:
  slo export openslo                       every product's Service, SLI, SLO and AlertPolicy documents
  slo export openslo -o openslo/           one <product>.openslo.yaml per product
  slo export sloth -o sloth/               Sloth prometheus/v1 specs, then: sloth generate -i sloth/<file> ...
  slo import openslo openslo/product_affinity.openslo.yaml -o slo_definitions/product_affinity.yaml
"""

IMPORT_EPILOG = """\
examples:
  slo import openslo exported.openslo.yaml -o slo_definitions/imported.yaml

The documents must describe one Service and its SLOs, each SLI's metric source of type slo-monitor (as `slo export
openslo` writes them). exit codes: 0 written, 2 not OpenSLO v1 or not importable (each problem at file:line)
"""


def register(sub: Any) -> None:
    export = sub.add_parser(
        "export",
        help="write the specs as OpenSLO v1 documents or Sloth prometheus/v1 specs",
        description="The specs in other tools' formats (docs/interop.md).",
        epilog=EXPORT_EPILOG,
    )
    formats = export.add_subparsers(dest="export_format", metavar="FORMAT", parser_class=type(export))
    formats.required = True
    openslo = formats.add_parser(
        "openslo",
        help="Service, SLI, SLO and AlertPolicy documents (OpenSLO v1); `slo import openslo` reads them back",
        description="OpenSLO v1 documents: a Service per product, an SLI and an SLO per SLO, an AlertPolicy per "
        "burn-rate alert. What OpenSLO has no field for is kept in slo-monitor.dev/ annotations.",
        epilog=EXPORT_EPILOG,
    )
    openslo.add_argument("-o", "--output-dir", type=Path, help="write <dir>/<product>.openslo.yaml instead of printing")
    add_slos_option(openslo)
    openslo.set_defaults(handler=handle_export_openslo)
    sloth = formats.add_parser(
        "sloth",
        help="Sloth prometheus/v1 specs whose generated rules match `slo rules`",
        description="One Sloth spec per product and budget period; each file's header says how to run `sloth "
        "generate` on it. Periods other than 28d and 30d come with Sloth AlertWindows specs in alert-windows/.",
        epilog=EXPORT_EPILOG,
    )
    sloth.add_argument("-o", "--output-dir", type=Path, help="write the files into <dir> instead of printing")
    add_slos_option(sloth)
    sloth.set_defaults(handler=handle_export_sloth)

    imp = sub.add_parser(
        "import",
        help="read OpenSLO v1 documents into a spec",
        description="Another tool's SLO documents as a spec (docs/interop.md).",
        epilog=IMPORT_EPILOG,
    )
    sources = imp.add_subparsers(dest="import_format", metavar="FORMAT", parser_class=type(imp))
    sources.required = True
    from_openslo = sources.add_parser(
        "openslo",
        help="OpenSLO v1 documents (one Service and its SLOs) into one spec file",
        description="Check the documents against OpenSLO v1, map them to a spec, validate it, and write it.",
        epilog=IMPORT_EPILOG,
    )
    from_openslo.add_argument("files", type=Path, nargs="+", metavar="FILE", help="OpenSLO YAML files")
    from_openslo.add_argument("-o", "--output", type=Path, required=True, metavar="SPEC.yaml", help="spec to write")
    from_openslo.set_defaults(handler=handle_import_openslo)


def _write(directory: Path | None, files: list[tuple[str, str]]) -> None:
    if directory is None:
        sys.stdout.write("".join(text for _name, text in files))
        return
    for name, text in files:
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path}")


def handle_export_openslo(args: argparse.Namespace) -> int:
    from dagster_project.interop.openslo import export_documents
    from dagster_project.interop.yaml_out import dump_all

    specs = load_specs(config_of(args))
    if args.output_dir is None:
        _write(None, [("", dump_all(export_documents(specs)))])
    else:
        _write(args.output_dir, [(f"{s.data_product.id}.openslo.yaml", dump_all(export_documents([s]))) for s in specs])
    return EXIT_OK


def handle_export_sloth(args: argparse.Namespace) -> int:
    from dagster_project.interop.sloth import NotExpressible, export_files
    from dagster_project.interop.yaml_out import dump

    specs = load_specs(config_of(args))
    try:
        files, windows = export_files(specs)
    except NotExpressible as exc:
        raise UsageError(f"cannot export to Sloth: {exc}") from None
    out = [(f.name, f.header + ("---\n" if args.output_dir is None else "") + dump(f.spec)) for f in files]
    out += [(f"alert-windows/{name}", "---\n" + dump(spec)) for name, spec in windows.items()]
    _write(args.output_dir, out)
    return EXIT_OK


def handle_import_openslo(args: argparse.Namespace) -> int:
    from dagster_project.interop.openslo import ImportFailed, import_documents, spec_data
    from dagster_project.interop.yaml_out import dump
    from dagster_project.spec.validate import validate
    from dagster_project.spec.yaml_source import YamlError, load_yaml_stream

    docs = []
    for path in args.files:
        try:
            docs += load_yaml_stream(path)
        except YamlError as exc:
            raise UsageError(str(exc)) from None
    try:
        spec = import_documents(docs)
    except ImportFailed as exc:
        raise UsageError("not importable as a spec:\n" + "\n".join(str(i) for i in exc.issues)) from None
    sources = ", ".join(str(p) for p in args.files)
    text = f"# Imported by `slo import openslo` from {sources}.\n" + dump(spec_data(spec))
    # Validated before it replaces anything: a spec that would not load is reported, and the file left as it was.
    args.output.parent.mkdir(parents=True, exist_ok=True)
    draft = args.output.with_name(f".{args.output.name}.importing.yaml")
    draft.write_text(text)
    try:
        _loaded, issues = validate([draft])
    except BaseException:
        draft.unlink(missing_ok=True)
        raise
    if issues:
        draft.unlink()
        lines = "\n".join(str(i).replace(str(draft), str(args.output)) for i in issues)
        raise UsageError("the imported spec does not validate:\n" + lines)
    draft.replace(args.output)
    print(f"wrote {args.output}")
    return EXIT_OK
