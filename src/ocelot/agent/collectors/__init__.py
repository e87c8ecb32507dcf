"""One module per inventory section; each has ``SECTION`` (the OCS tag) and ``collect``.

``collect(host, found)`` returns the section's rows (field tag -> text, named and in the
units of the OCS Unix agent 2.10, protocol.md §5.2). ``found`` holds the sections collected
before it, so HARDWARE (collected last) sums up CPUS and NETWORKS without asking the
machine twice. A collector that fails is logged and skipped by the caller.
"""
