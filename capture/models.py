"""Models of the capture channels (import jobs, web forms)."""

from capture.import_models import (
    ImportErrorRow,
    ImportFile,
    ImportFileChunk,
    ImportJob,
    ImportMappingMemory,
    ImportPart,
)
from capture.webform_models import WebForm, WebFormLanguage

__all__ = [
    "ImportErrorRow",
    "ImportFile",
    "ImportFileChunk",
    "ImportJob",
    "ImportMappingMemory",
    "ImportPart",
    "WebForm",
    "WebFormLanguage",
]
