"""Capture: the channels that bring leads in besides the REST API — file imports (CSV/XLSX with
column mapping, dry run, background job and error report) and the embeddable public web form.
Every row and every form post goes through `leads.intake`; nothing here writes a lead itself."""
