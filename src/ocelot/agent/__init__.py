"""The Ocelot agent (standard library and ocelot.protocol only); arrives with issue 5."""
