"""Models of the capture channels (import jobs, web forms)."""
