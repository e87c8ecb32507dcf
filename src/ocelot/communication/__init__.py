"""The agent endpoint ``/ocsinventory``: decode, dispatch to one domain function, encode."""
