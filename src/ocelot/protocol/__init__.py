"""The OCS wire format shared by the server and the agent.

Standard library only, no I/O: bodies in, typed messages out, and back. OCS tag names
(HARDWARE, SOFTWARES, DEVICEID, ...) appear only in this package; everything outside it
speaks Ocelot's words (computer, section, software, package, ...).
"""
