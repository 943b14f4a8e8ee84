"""Provider-neutral machinery: jobs, artifacts, rendering, faults, the journal and the request seam."""
