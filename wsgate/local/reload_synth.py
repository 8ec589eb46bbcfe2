"""The template ``wsgate local`` runs: written at start, and again by a fresh process on reload.

A reload cannot synthesize inside ``wsgate local`` itself: its ``shared`` and ``infra`` modules
are the ones imported at start, not the edited files. ``python -m wsgate.local.reload_synth``
imports the project anew, writes the template next to the target and moves it into place only
when synthesis succeeded, so a broken edit leaves the previous template (and the gateway
serving it) untouched. A failure is one line and exit status 1, never a traceback.

``wsgate.local.reload.Synthesizer`` runs it from a warm standby (``reload_standby``:
troposphere and awacs already imported), so a reload pays only for the project's modules. This
module imports nothing else, for the same reason.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from infra.options import SynthOptions


def local_synth_options(api_key_source: str, authorizer_arn: str) -> SynthOptions:
    """What ``wsgate synth`` is told for the local stack; ``wsgate local``'s flags are checked
    against the template these options give."""
    from infra.options import SynthOptions

    return SynthOptions(
        api_key_source=api_key_source,  # type: ignore[arg-type]
        authorizer_arn=authorizer_arn,
    )


def write_template(path: Path, api_key_source: str, authorizer_arn: str) -> None:
    """What ``wsgate synth`` writes for the default settings, with the key source chosen."""
    from infra.template import synthesize

    options = local_synth_options(api_key_source, authorizer_arn)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(synthesize(options), indent=2) + "\n")
    partial.replace(path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m wsgate.local.reload_synth")
    parser.add_argument("template", type=Path)
    parser.add_argument("--api-key-source", required=True)
    parser.add_argument("--authorizer-arn", required=True)
    args = parser.parse_args(argv)
    try:
        write_template(args.template, args.api_key_source, args.authorizer_arn)
    except Exception as error:  # any failure of the edited code: one line, the old file stays
        sys.exit(f"{type(error).__name__}: {error}".splitlines()[0])


if __name__ == "__main__":
    main()
