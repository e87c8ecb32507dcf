"""Load benchmark: simulated OCS agents against Ocelot and the real OCS server (bench/README.md)."""
