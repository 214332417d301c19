"""Media for the emulator: write small sample videos and probe uploaded files with PyAV.

Its jobs, all pure functions over files:

- :func:`make_sample_video` writes an H.264 + AAC MP4 with coloured scenes and a ``mov_text``
  subtitle track, so tests, the demo and notebooks never need committed binary media;
  :func:`sample_videos` writes the three :data:`SAMPLES` of the demo and the notebooks;
- :func:`probe` reads what the emulator needs from an upload (container metadata, the subtitle
  lines, and one mean colour per time step) without loading the file into memory;
- :func:`probe_streams` reads the container and stream facts of any media file (audio and
  images too), and :func:`png_bytes` draws the solid-colour PNGs served as thumbnails;
- :func:`probe_audio` reads a sound file's loudness and pitch over time, :func:`probe_picture`
  an image's pixels, :func:`read_document` a PDF's pages or a text file;
- :func:`make_sample_audio`, :func:`make_sample_image` and :func:`make_sample_pdf` write
  small sound files, striped PNGs and PDFs for tests and notebooks;
- :func:`frame_at` reads a video's frame at some time (a search clip's thumbnail), which
  :func:`png_from_pixels` encodes.

Example:
    >>> from tl_integrations.emulator._media import make_sample_video, probe
    >>> path = make_sample_video("/tmp/doc-sample.mp4", duration_s=6, subtitles=[(0, 2, "hello")])
    >>> [u.text for u in probe(path).utterances]
    ['hello']
"""

from ._documents import Document, make_sample_pdf, read_document
from ._image_header import (
    ANALYZE_IMAGE_PIXELS,
    MAX_IMAGE_PIXELS,
    check_image_pixels,
    declared_image_size,
)
from ._media_types import COLOURS, MediaError, MediaInfo, Picture, StreamFacts, Utterance
from ._png import png_bytes, png_from_pixels
from ._probe import frame_at, probe, probe_audio, probe_picture, probe_streams
from ._sample_media import make_sample_audio, make_sample_image
from ._sample_video import SAMPLES, SampleVideo, make_sample_video, sample_videos

__all__ = [
    "ANALYZE_IMAGE_PIXELS",
    "COLOURS",
    "MAX_IMAGE_PIXELS",
    "SAMPLES",
    "Document",
    "MediaError",
    "MediaInfo",
    "Picture",
    "SampleVideo",
    "StreamFacts",
    "Utterance",
    "check_image_pixels",
    "declared_image_size",
    "frame_at",
    "make_sample_audio",
    "make_sample_image",
    "make_sample_pdf",
    "make_sample_video",
    "png_bytes",
    "png_from_pixels",
    "probe",
    "probe_audio",
    "probe_picture",
    "probe_streams",
    "read_document",
    "sample_videos",
]
