"""Media for the emulator: write small sample videos and probe uploaded files with PyAV.

Its jobs, all pure functions over files:

- :func:`make_sample_video` writes an H.264 + AAC MP4 with coloured scenes and a ``mov_text``
  subtitle track, so tests, the demo and notebooks never need committed binary media;
- :func:`probe` reads what the emulator needs from an upload (container metadata, the subtitle
  lines, and one mean colour per time step) without loading the file into memory;
- :func:`probe_streams` reads the container and stream facts of any media file (audio and
  images too), and :func:`png_bytes` draws the solid-colour PNGs served as thumbnails;
- :func:`picture_colours` reads the colours of a still image (a search query) and
  :func:`frame_at` a video's frame at some time, which :func:`png_image` encodes.

Example:
    >>> from tl_integrations.emulator.media import make_sample_video, probe
    >>> path = make_sample_video("/tmp/doc-sample.mp4", duration_s=6, subtitles=[(0, 2, "hello")])
    >>> [u.text for u in probe(path).utterances]
    ['hello']
"""

from ._media_types import COLOURS, MediaError, MediaInfo, StreamFacts, Utterance
from ._png import png_bytes, png_image
from ._probe import frame_at, picture_colours, probe, probe_streams
from ._sample_video import make_sample_video

__all__ = [
    "COLOURS",
    "MediaError",
    "MediaInfo",
    "StreamFacts",
    "Utterance",
    "frame_at",
    "make_sample_video",
    "picture_colours",
    "png_bytes",
    "png_image",
    "probe",
    "probe_streams",
]
