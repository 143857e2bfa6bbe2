"""Models of the capture channels (import jobs, web forms)."""

from capture.webform_models import WebForm, WebFormLanguage

__all__ = ["WebForm", "WebFormLanguage"]
