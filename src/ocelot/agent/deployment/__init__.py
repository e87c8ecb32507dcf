"""The agent's deployment engine (issue 5; protocol.md §4.4, §8, §9; the seeds' teledeploy chapters).

After a PROLOG whose DOWNLOAD option says ``ON=1``, :func:`engine.deploy_after_contact`
reads the announced packages, fetches and checks their info files, then works through
periods and cycles: fragments, digests, safe extraction, LAUNCH / EXECUTE / STORE, results.
Modules: ``codes`` (result codes), ``announcement`` (the option's CONF and PACK params),
``package_info`` and ``signature`` (the info file and its Ed25519 signature), ``fetch``
(HTTP(S) downloads), ``store`` (the state on disk), ``digests``, ``extract``, ``actions``,
``report`` (QUERY=DOWNLOAD), ``clock`` (injectable time) and ``engine`` (the schedule).
"""
