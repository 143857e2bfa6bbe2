"""Models of the capture channels (import jobs, web forms)."""

from capture.import_models import (  # noqa: F401 - Django finds an app's models here
    ImportErrorRow,
    ImportFile,
    ImportFileChunk,
    ImportJob,
    ImportMappingMemory,
    ImportPart,
)
