"""The argparse structure of ``tl-integrations``: commands, flags, help texts and examples.

Global flags (``--api-key``, ``--base-url``, ``--data-dir``, ``--debug``, ``--json``) are
accepted before or after the command name.

Example:
    >>> args = build_parser().parse_args(["search", "--index", "talks", "a red car"])
    >>> (args.command, args.index, args.query, args.limit)
    ('search', 'talks', 'a red car', 5)
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias

__all__ = ["EMBED_MODELS", "build_parser", "command_parser"]

EMBED_MODELS = ("marengo3.0", "marengo3.5", "Marengo-retrieval-2.7")
SEARCH_OPTIONS = ("visual", "audio", "transcription")

_MAIN_EPILOG = """\
backend:
  With TWELVELABS_API_KEY (or --api-key) set, commands talk to the TwelveLabs API.
  Without a key they start the embedded emulator, a local TwelveLabs-compatible server
  whose state lives in --data-dir, so `index` then `search` work across runs, offline.

  Offline it keeps a copy of uploaded media there: `tl-integrations cache` shows how much.

examples:
  tl-integrations demo
  tl-integrations index talk.mp4 lectures/ --index talks
  tl-integrations search --index talks "the speaker draws a graph"
  tl-integrations list videos --index talks
  tl-integrations embed talk.mp4 --model marengo3.0 -o talk.npz
  tl-integrations wait --index talks 6650a1b2c3d4e5f601234567 --timeout 600
  tl-integrations delete video 6650a1b2c3d4e5f601234567 --index talks --yes
  tl-integrations emulator --port 8765
  TWELVELABS_WEBHOOK_SECRET=... tl-integrations webhooks --port 8000

exit status: 0 success, 1 some inputs failed (each is named), 2 usage error.
"""

_INDEX_EPILOG = """\
A folder means the video files in it (add --recursive for its subfolders); a quoted glob
such as "talks/**/*.mp4" its matches. Each local file's SHA-256 is stored with its video,
so re-running the same command skips what is already indexed and waits for what is still
in progress: that is how a run that timed out is resumed.

examples:
  tl-integrations index talk.mp4 --index talks
  tl-integrations index lectures/ --recursive --index talks
  tl-integrations index "videos/*.mp4" https://example.org/clip.mp4 --index talks --json
"""

_WAIT_EPILOG = """\
`index` makes videos (indexed assets) of an index: wait for those with --index NAME.
Without --index the ids are indexing tasks of the older one-step upload (/tasks).

examples:
  tl-integrations wait --index talks 6650a1b2c3d4e5f601234567
  tl-integrations wait ID1 ID2 ID3 --timeout 300 --json

When the deadline passes the jobs keep running: run the same command again to resume.
"""

_LIST_EPILOG = """\
examples:
  tl-integrations list indexes
  tl-integrations list videos --index talks --json
  tl-integrations list assets --limit 20
"""

_DELETE_EPILOG = """\
Asks first on a terminal; --yes deletes without asking (scripts, --json).

examples:
  tl-integrations delete index talks
  tl-integrations delete video 6650a1b2c3d4e5f601234567 --index talks --yes
  tl-integrations delete asset 6650a1b2c3d4e5f601234568 --force --yes
"""

_CACHE_EPILOG = """\
Without an API key every command runs on the embedded emulator, whose state (indexes,
videos and a copy of each uploaded file) lives in --data-dir, by default
~/.cache/tl-integrations/emulator.

examples:
  tl-integrations cache
  tl-integrations cache clear --yes
"""

_EMBED_EPILOG = """\
A video, a sound file (.mp3, .wav...), a picture (.png, .jpg...) or a document (.pdf, .txt,
.md), told apart by the extension (or --media). A local file goes up as an asset that is
deleted once the vectors are read. The output is a NumPy .npz file; load it with
  tl_integrations.MediaEmbedding.load("talk.npz")

examples:
  tl-integrations embed talk.mp4 -o talk.npz
  tl-integrations embed talk.mp4 --model marengo3.5 --dimension 256 -o talk.npz
  tl-integrations embed interview.mp3 --clip-length 4 -o interview.npz
  tl-integrations embed slides.pdf -o slides.npz
"""

_SEARCH_EPILOG = """\
examples:
  tl-integrations search --index talks "the speaker draws a graph"
  tl-integrations search --index talks "applause" --option audio --limit 3 --json
"""

_EMULATOR_EPILOG = """\
Every flag after `emulator` goes to the emulator itself; see `tl-integrations emulator --help`.

examples:
  tl-integrations emulator --port 8765 --speed 10
  TWELVELABS_BASE_URL=http://127.0.0.1:8765/v1.3 TWELVELABS_API_KEY=any tl-integrations ...
"""

_WEBHOOKS_EPILOG = """\
Register http://<your public host>:PORT/ as the webhook URL in the TwelveLabs dashboard
(through a tunnel such as `ngrok http PORT` when this machine is not reachable), and give
the secret it shows through TWELVELABS_WEBHOOK_SECRET (preferred: other users of this
machine can read command lines) or --secret. Every verified event is printed; forged,
stale and malformed requests are refused and counted.

With the local emulator:
  tl-integrations emulator --webhook-url http://127.0.0.1:8000/ --webhook-secret whsec_local

examples:
  TWELVELABS_WEBHOOK_SECRET=whsec_... tl-integrations webhooks --port 8000
  tl-integrations webhooks --port 8000 --count 1 --json
"""

_DEMO_EPILOG = """\
Without an API key the demo runs offline against the embedded emulator in well under a
minute. With a key it uses the real API (and asks first, since that spends credits).

examples:
  tl-integrations demo
  TWELVELABS_API_KEY=... tl-integrations demo --yes
"""


def build_parser() -> argparse.ArgumentParser:
    """Build the full ``tl-integrations`` parser.

    Example:
        >>> build_parser().prog
        'tl-integrations'
    """
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="tl-integrations",
        description="TwelveLabs video understanding from the command line.",
        epilog=_MAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_global_flags(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    adders = (_add_index, _add_wait, _add_list, _add_delete, _add_embed, _add_search)
    for add in (*adders, _add_webhooks, _add_cache, _add_demo):
        add(commands)
    for command in commands.choices.values():
        _add_global_flags(command, suppress=True)
    commands.add_parser(
        "emulator",
        add_help=False,
        help="run the local TwelveLabs-compatible emulator server",
        description="Run the local TwelveLabs-compatible emulator (flags go to the emulator).",
        epilog=_EMULATOR_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


if TYPE_CHECKING:
    _Commands: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]


def command_parser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    """The sub-parser of one command (for its own usage line in error messages).

    Example:
        >>> command_parser(build_parser(), "wait").prog
        'tl-integrations wait'
    """
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            sub: argparse.ArgumentParser = action.choices[name]
            return sub
    raise KeyError(name)


def _add_global_flags(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    # In sub-commands the defaults are SUPPRESS so a flag given before the command name is
    # not overwritten by the sub-parser's default.
    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress else value

    group = parser.add_argument_group("global options")
    group.add_argument(
        "--api-key",
        metavar="KEY",
        default=default(None),
        help="TwelveLabs API key (default: $TWELVELABS_API_KEY; none: the embedded emulator)",
    )
    group.add_argument(
        "--base-url",
        metavar="URL",
        default=default(None),
        help="API base URL including the version (default: $TWELVELABS_BASE_URL)",
    )
    group.add_argument(
        "--data-dir",
        metavar="DIR",
        default=default(None),
        help="where the embedded emulator keeps its state (default: in ~/.cache)",
    )
    group.add_argument(
        "--emulator-speed", type=_positive_float, default=default(None), help=argparse.SUPPRESS
    )
    group.add_argument(
        "--json", action="store_true", default=default(False), help="print JSON for scripts"
    )
    group.add_argument(
        "--debug", action="store_true", default=default(False), help="show tracebacks and logs"
    )


def _command(
    commands: _Commands, name: str, *, usage: str, summary: str, epilog: str
) -> argparse.ArgumentParser:
    # An explicit usage line keeps it short: the global flags are listed in their own group.
    return commands.add_parser(
        name,
        usage=f"%(prog)s {usage}",
        help=summary,
        description=summary[0].upper() + summary[1:] + ".",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _add_index(commands: _Commands) -> None:
    cmd = _command(
        commands,
        "index",
        usage="FILE_OR_URL... --index NAME [options]",
        summary="upload and index videos, then print their ids",
        epilog=_INDEX_EPILOG,
    )
    cmd.add_argument(
        "inputs", nargs="+", metavar="FILE_OR_URL", help="video files, folders, globs or URLs"
    )
    _add_index_option(cmd, "index name (created if new)", required=True)
    cmd.add_argument(
        "-r", "--recursive", action="store_true", help="a folder includes its subfolders"
    )
    _add_timeout_option(cmd)
    cmd.add_argument(
        "--concurrency",
        type=_int_range(1, 16),
        default=4,
        metavar="N",
        help="uploads at a time (default: 4)",
    )


def _add_wait(commands: _Commands) -> None:
    cmd = _command(
        commands,
        "wait",
        usage="ID... [--index NAME] [--timeout S] [options]",
        summary="wait for indexing jobs to finish",
        epilog=_WAIT_EPILOG,
    )
    cmd.add_argument("ids", nargs="+", metavar="ID", help="video ids (with --index) or task ids")
    _add_index_option(cmd, "the index of the videos (name or id)")
    _add_timeout_option(cmd)


def _add_list(commands: _Commands) -> None:
    from .manage import LIST_KINDS

    cmd = _command(
        commands,
        "list",
        usage="{indexes,videos,assets} [--index NAME] [--limit N] [options]",
        summary="list indexes, the videos of an index, or uploaded assets",
        epilog=_LIST_EPILOG,
    )
    cmd.add_argument("what", choices=LIST_KINDS, help="what to list")
    _add_index_option(cmd, "the index (for videos; name or id)")
    cmd.add_argument(
        "--limit", type=_int_range(1, 10**6), default=100, metavar="N", help="at most N rows"
    )


def _add_delete(commands: _Commands) -> None:
    from .manage import DELETE_KINDS

    cmd = _command(
        commands,
        "delete",
        usage="{index,video,asset} NAME_OR_ID [--index NAME] [--yes] [options]",
        summary="delete an index, a video of an index, or an asset",
        epilog=_DELETE_EPILOG,
    )
    cmd.add_argument("what", choices=DELETE_KINDS, help="what to delete")
    cmd.add_argument(
        "id", metavar="NAME_OR_ID", help="the index's name or id; the video or asset id"
    )
    _add_index_option(cmd, "the index of the video (name or id)")
    cmd.add_argument("--force", action="store_true", help="an asset: even while indexes use it")
    cmd.add_argument("-y", "--yes", action="store_true", help="do not ask first")


def _add_cache(commands: _Commands) -> None:
    cmd = _command(
        commands,
        "cache",
        usage="[clear] [--yes] [options]",
        summary="show or remove what offline mode keeps on disk",
        epilog=_CACHE_EPILOG,
    )
    cmd.add_argument("action", nargs="?", choices=("show", "clear"), default="show")
    cmd.add_argument("-y", "--yes", action="store_true", help="clear without asking")


def _add_embed(commands: _Commands) -> None:
    cmd = _command(
        commands,
        "embed",
        usage="FILE_OR_URL -o OUT.npz [--model M] [--dimension N] [options]",
        summary="compute the vectors of a video, sound, picture or document into an .npz",
        epilog=_EMBED_EPILOG,
    )
    cmd.add_argument("input", metavar="FILE_OR_URL", help="a file or an http(s) URL")
    cmd.add_argument(
        "--model",
        default=None,
        type=_model,
        metavar="M",
        help=f"{', '.join(EMBED_MODELS)} (default: marengo3.0; documents: marengo3.5)",
    )
    cmd.add_argument(
        "--dimension",
        type=_int_range(1, 512),
        metavar="N",
        help="vector size, 1 to 512 (marengo3.5 only; default: 512)",
    )
    cmd.add_argument(
        "--media",
        choices=("video", "audio", "image", "document"),
        help="what the input is (default: from its extension)",
    )
    cmd.add_argument("-o", "--output", required=True, metavar="OUT.npz", help="file to write")
    cmd.add_argument(
        "--clip-length",
        type=_int_range(2, 10),
        default=None,
        metavar="S",
        help="whole seconds per segment of a video or sound, 2 to 10 (default: the model's)",
    )
    cmd.add_argument(
        "--option",
        action="append",
        dest="options",
        metavar="OPTION",
        help="keep only this embedding option, repeatable (default: all the model has)",
    )
    cmd.add_argument(
        "--whole",
        "--video-scope",
        dest="whole",
        action="store_true",
        help="add one vector for the whole video or sound",
    )
    _add_timeout_option(cmd)


def _add_search(commands: _Commands) -> None:
    cmd = _command(
        commands,
        "search",
        usage='--index NAME "QUERY" [--limit N] [options]',
        summary="search an index with a text query",
        epilog=_SEARCH_EPILOG,
    )
    cmd.add_argument("query", type=_query, help="what to look for, in words")
    _add_index_option(cmd, "index name", required=True)
    cmd.add_argument(
        "--limit", type=_int_range(1, 50), default=5, metavar="N", help="results (default: 5)"
    )
    cmd.add_argument(
        "--option",
        action="append",
        choices=SEARCH_OPTIONS,
        dest="options",
        help="search option, repeatable (default: visual and audio)",
    )


def _add_webhooks(commands: _Commands) -> None:
    cmd = _command(
        commands,
        "webhooks",
        usage="[--port PORT] [--host HOST] [--secret SECRET] [--count N] [options]",
        summary="receive TwelveLabs webhooks and print each verified event",
        epilog=_WEBHOOKS_EPILOG,
    )
    cmd.add_argument(
        "--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)"
    )
    cmd.add_argument(
        "--port", type=_int_range(0, 65535), default=8000, help="port (default: 8000; 0: any)"
    )
    cmd.add_argument(
        "--secret",
        default=None,
        metavar="SECRET",
        help="the webhook secret (default: $TWELVELABS_WEBHOOK_SECRET)",
    )
    cmd.add_argument("--count", type=_int_range(1, 10**9), metavar="N", help="exit after N events")


def _add_demo(commands: _Commands) -> None:
    cmd = _command(
        commands,
        "demo",
        usage="[--yes] [options]",
        summary="index, describe, embed and search three sample videos",
        epilog=_DEMO_EPILOG,
    )
    cmd.add_argument(
        "-y", "--yes", action="store_true", help="with a real API key, do not ask before spending"
    )


def _add_index_option(cmd: argparse.ArgumentParser, help: str, *, required: bool = False) -> None:
    # Five commands take the index a job belongs to; one spelling keeps their usage alike.
    cmd.add_argument("--index", type=_index_name, required=required, metavar="NAME", help=help)


def _add_timeout_option(cmd: argparse.ArgumentParser) -> None:
    # The commands that wait (index, wait, embed) share one deadline flag, in seconds.
    cmd.add_argument("--timeout", type=_positive_float, metavar="S", help="deadline in seconds")


def _query(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("the query is empty; say what to look for, in words")
    return text


def _index_name(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("an index name cannot be blank; pass its name or id")
    return text


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def _model(text: str) -> str:
    known = {name.lower(): name for name in EMBED_MODELS}
    known.update({"marengo2.7": "Marengo-retrieval-2.7", "marengo3": "marengo3.0"})
    try:
        return known[text.strip().lower()]
    except KeyError:
        raise argparse.ArgumentTypeError(
            f"unknown model {text!r}; use {' or '.join(EMBED_MODELS)}"
        ) from None


def _int_range(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be {low} to {high}, got {text}")
        return value

    return parse
