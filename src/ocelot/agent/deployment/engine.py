"""The download schedule and each package's life, as the seeds and protocol.md §9.2 describe.

One call of :meth:`Engine.deploy` is what the Unix agent does in its prolog phase plus its
worker, in the agent's own process:

1. Results not yet accepted are re-sent. ``ON=0`` stops here.
2. Each announced package: already in the history and not forced gives
   SUCCESS_ALREADY_SETUP; otherwise its directory is created and its info file fetched
   over HTTPS (ERR_DOWNLOAD_INFO), signature-checked when the server's key is known
   (ERR_BAD_SIGNATURE) and checked (ERR_BAD_ID, ERR_BAD_PARAM).
3. Periods of PERIOD_LENGTH cycles. In cycle i a package of priority p > 0 takes one step
   when i mod p = 0, followed by FRAG_LATENCY; CYCLE_LATENCY ends the cycle. While any
   package of priority 0 is left, cycles handle only those (no cycle latency): "it can
   completely stop deployments" (seeds). PERIOD_LATENCY follows each period. A step
   fetches the next missing fragment (SHA-256 checked when the info lists it) or, when
   all are there, checks the whole archive, extracts it and runs the action.
4. Periods repeat while packages remain and the last period moved something; when a whole
   period moved nothing (an unreachable fragment server, a priority above PERIOD_LENGTH)
   the run ends and the next run resumes where this one stopped. TIMEOUT days after a
   package's directory was created it ends in ERR_TIMEOUT; a fragment that failed too
   often for more than a day ends it in ERR_DOWNLOAD_PACK.

Crash safety: fragments are renamed into place only when complete and verified, so a
resumed run never fetches them again (it checks again the ones with a SHA-256, which are
not fsynced, and fetches only a wrong one). ``started`` is written before a command runs, and
the result (with the history entry) before the directory is removed and before the
report: a crash never runs an install twice, and an install a crash interrupted reports
ERR_INTERRUPTED instead of running again.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ocelot.agent.client import Client, ServerError, tls_context
from ocelot.agent.deployment import codes
from ocelot.agent.deployment.actions import run_action
from ocelot.agent.deployment.announcement import Announcement, DownloadConf, PackOrder, read_announcement
from ocelot.agent.deployment.clock import Clock
from ocelot.agent.deployment.digests import CHUNK, ArchiveDigest, DigestError
from ocelot.agent.deployment.extract import MARGIN, ArchiveError, NoSpaceError, extract
from ocelot.agent.deployment.fetch import Fetcher, FetchError, OutOfSpaceError, is_out_of_space
from ocelot.agent.deployment.package_info import InfoError, PackageInfo, read_info
from ocelot.agent.deployment.report import Poster, send_result
from ocelot.agent.deployment.signature import SignatureError, find_public_key, signed_content
from ocelot.agent.deployment.store import DownloadStore, PackageDir, free_bytes
from ocelot.agent.state import write_atomically
from ocelot.protocol.info_file import MAX_INFO_FILE
from ocelot.protocol.xmltree import Node

log = logging.getLogger(__name__)

# Without per-fragment sizes (an OCS server), a fragment may not be larger than this.
MAX_FRAGMENT = 4 * 1024 * 1024 * 1024
# A fragment whose download failed this many times in a row, over at least this long,
# gives ERR_DOWNLOAD_PACK (Engine._fetch_failed).
FETCH_ATTEMPTS = 5
FETCH_GIVE_UP_SECONDS = 24 * 3600


@dataclass
class Active:
    """A package the schedule works on."""

    directory: PackageDir
    info: PackageInfo
    pack: PackOrder

    @property
    def package_id(self) -> str:
        return self.directory.package_id


class Engine:
    """Deployment for one vardir; ``clock`` and ``command_timeout`` (seconds) are injectable."""

    def __init__(
        self,
        *,
        vardir: Path,
        device_id: str,
        poster: Poster,
        fetcher: Fetcher,
        clock: Clock | None = None,
        public_key: bytes | None = None,
        accept_unsigned: bool = False,
        command_timeout: float | None = None,
    ) -> None:
        self.vardir = vardir
        self.store = DownloadStore(vardir)
        self.device_id = device_id
        self.poster = poster
        self.fetcher = fetcher
        self.clock = clock or Clock()
        self.public_key = public_key
        self.accept_unsigned = accept_unsigned
        self.command_timeout = command_timeout
        self.conf = DownloadConf()
        # Each package's whole-archive digests, fed as its fragments arrive (digests.py).
        self._digests: dict[str, ArchiveDigest] = {}

    # ------------------------------------------------------------ entry points

    def deploy(self, announcement: Announcement) -> None:
        """The prolog phase and the worker for one PROLOG reply's DOWNLOAD option."""
        self.store.ensure()
        self.conf = announcement.conf
        self.store.write_conf(self.conf)
        with self.store.lock() as held:
            if not held:
                log.info("another agent process is deploying packages: leaving it the work")
                return
            self.store.sweep()
            # A package whose result is only now delivered is still announced by this reply.
            reported = {package_id for package_id, _, _ in self.store.pending_results()}
            self.send_pending()
            if not self.conf.on:
                log.info("deployment is off (ON=0)")
                return
            for refused in announcement.refused:
                log.warning("package %r announced with an unusable ID or location: ignored", refused)
            for pack in announcement.packs:
                if pack.package_id not in reported:
                    self._accept(pack)
            self._work()

    def resume(self) -> None:
        """Work on the packages already on disk, with the last CONF (no PROLOG)."""
        self.store.ensure()
        self.conf = self.store.conf() or DownloadConf()
        with self.store.lock() as held:
            if not held:
                return
            self.store.sweep()
            self.send_pending()
            if self.conf.on:
                self._work()

    # ------------------------------------------------------------ results

    def send_pending(self) -> None:
        for package_id, code, done in self.store.pending_results():
            if done:
                self.store.add_to_history(package_id)  # a crash may have come between the two
            package = self.store.package(package_id)
            if package.path.exists():
                self.store.remove_package(package)
            self._report(package_id, code)

    def _report(self, package_id: str, code: str) -> None:
        """Send a recorded result; forget it once accepted, then report ERR_CLEAN if it was unclean.

        protocol.md §9.2: the Unix agent sends ERR_CLEAN when it cannot delete a package's
        directory after its result. Sent after the result, never instead of it: Ocelot's
        server keeps the first result of an assignment (the install's outcome stays what
        the console shows), an OCS server shows ERR_CLEAN, as with its own agent. The
        directory was renamed out of the package space, so it is never taken for a package
        again, and each run tries to remove it again (DownloadStore.sweep).
        """
        unclean = self.store.is_unclean(package_id)
        if not send_result(self.poster, self.device_id, package_id, code):
            return
        if not unclean:
            self.store.forget_result(package_id)
            return
        try:
            self.store.record_result(package_id, codes.CLEAN, done=False)
        except OSError:
            self.store.forget_result(package_id)  # the result itself went through
            send_result(self.poster, self.device_id, package_id, codes.CLEAN)
            return
        if send_result(self.poster, self.device_id, package_id, codes.CLEAN):
            self.store.forget_result(package_id)

    def _finish(self, package_id: str, code: str, *, done: bool = False) -> None:
        """Record a result (and the history for ``done``), clean the package, report."""
        self._digests.pop(package_id, None)
        package = self.store.package(package_id)
        if done:
            if not self._record_done(package, code):
                # ``started`` stays: the next run reports ERR_INTERRUPTED, never reinstalls.
                send_result(self.poster, self.device_id, package_id, code)
                return
        else:
            # Nothing ran: clean first (frees the space a full disk needs for the result file).
            cleaned = self.store.remove_package(package)
            if not cleaned:
                log.warning("package %s: cannot remove %s (%s)", package_id, package.path, codes.CLEAN)
            try:
                self.store.record_result(package_id, code, done=False, unclean=not cleaned)
            except OSError as exc:
                log.warning("package %s: cannot record %s (%s): reporting it now only", package_id, code, exc)
                send_result(self.poster, self.device_id, package_id, code)
                return
        log.info("package %s: %s", package_id, code)
        if done and not self.store.remove_package(package):
            log.warning("package %s: cannot remove %s (%s)", package_id, package.path, codes.CLEAN)
            with contextlib.suppress(OSError):
                self.store.record_result(package_id, code, done=True, unclean=True)
        self._report(package_id, code)

    def _record_done(self, package: PackageDir, code: str) -> bool:
        """Keep the result and the history entry of a package whose command ran; False if impossible."""
        for attempt in (1, 2):
            try:
                self.store.record_result(package.package_id, code, done=True)
                self.store.add_to_history(package.package_id)
                return True
            except OSError as exc:
                if attempt == 2:
                    log.error("package %s: cannot record %s: %s", package.package_id, code, exc)
                    return False
                # Free what the package itself holds, keeping ``started``.
                shutil.rmtree(package.work_dir, ignore_errors=True)
                for fragment in package.path.glob(f"{package.package_id}-*"):
                    with contextlib.suppress(OSError):
                        fragment.unlink()
        return False

    # ------------------------------------------------------------ prolog phase

    def _accept(self, pack: PackOrder) -> None:
        package_id = pack.package_id
        if self.store.has_pending_result(package_id):
            return  # finished; its result is on its way
        if package_id in self.store.history() and not pack.force:
            self._finish(package_id, codes.ALREADY_SETUP)
            return
        if package_id in self.store.history():
            log.info("package %s is in the history but forced: installing again", package_id)
        try:
            package = self.store.create_package(pack, self.clock.now())
        except OSError as exc:
            self._finish(package_id, codes.OUT_OF_SPACE if is_out_of_space(exc) else codes.BUILD)
            return
        if package.info_path.exists():
            package.write_pack(pack)
            return
        url = f"https://{pack.info_location}/{package_id}/info"
        try:
            data = self.fetcher.get_bytes(url, MAX_INFO_FILE)
        except FetchError as exc:
            log.warning("package %s: %s", package_id, exc)
            self._finish(package_id, codes.DOWNLOAD_INFO)
            return
        try:
            content = signed_content(data, self.public_key, accept_unsigned=self.accept_unsigned)
            read_info(content, package_id)
        except SignatureError as exc:
            log.warning("package %s refused: %s", package_id, exc)
            self._finish(package_id, codes.BAD_SIGNATURE)
            return
        except InfoError as exc:
            log.warning("package %s refused: %s", package_id, exc)
            self._finish(package_id, exc.code)
            return
        try:
            write_atomically(package.info_path, content)
        except OSError as exc:
            self._finish(package_id, codes.OUT_OF_SPACE if is_out_of_space(exc) else codes.BUILD)

    # ------------------------------------------------------------ worker

    def _active(self) -> list[Active]:
        found: list[Active] = []
        for package in self.store.packages():
            package_id = package.package_id
            if self.store.has_pending_result(package_id):
                self.store.remove_package(package)  # finished before a crash
                continue
            data, pack, since = package.info_bytes(), package.pack(), package.since()
            if data is None or pack is None or since is None:
                self.store.remove_package(package)  # as the Unix agent: cleaned silently
                continue
            try:
                info = read_info(data, package_id)
            except InfoError:
                self.store.remove_package(package)
                continue
            if package.started_path.exists():
                log.warning("package %s: its install was interrupted; not running it again", package_id)
                self._finish(package_id, codes.INTERRUPTED, done=True)
                continue
            if (self.clock.now() - since) / 86400 > self.conf.timeout_days:
                self._finish(package_id, codes.TIMEOUT)
                continue
            found.append(Active(package, info, pack))
        return found

    def _work(self) -> None:
        while True:
            # A later contact may have written ON=0 meanwhile (the Unix agent signals its
            # worker, protocol.md §9.2): it stops this one at the next period.
            kept = self.store.conf()
            if kept is not None and not kept.on:
                log.info("deployment switched off (ON=0): stopping")
                return
            active = self._active()
            if not active:
                return
            if not self._period(active):
                log.info("no package moved in a whole period: the next run goes on")
                return

    def _period(self, active: list[Active]) -> bool:
        moved = False
        finished: set[str] = set()

        def pause(seconds: int) -> None:
            # Latencies space out work still to do; once every package is finished, the run ends.
            if len(finished) < len(active):
                self.clock.sleep(seconds)

        for cycle in range(1, self.conf.period_length + 1):
            left = [item for item in active if item.package_id not in finished]
            if not left:
                break
            urgent = [item for item in left if item.info.priority == 0]
            if urgent:
                for item in urgent:
                    step_moved, done = self._step(item)
                    moved |= step_moved
                    if done:
                        finished.add(item.package_id)
                    pause(self.conf.frag_latency)
                continue
            for item in left:
                if cycle % item.info.priority == 0:
                    step_moved, done = self._step(item)
                    moved |= step_moved
                    if done:
                        finished.add(item.package_id)
                    pause(self.conf.frag_latency)
            pause(self.conf.cycle_latency)
        pause(self.conf.period_latency)
        return moved

    def _archive_digest(self, item: Active) -> ArchiveDigest:
        """The package's whole-archive digests; at the first step of this process, its fragments
        already on disk checked again.

        Fragments are not fsynced when the info file gives their SHA-256 (bench/README.md,
        agent: 20 fsyncs cost more than a tenth of the download): a power cut may then leave
        a renamed fragment short or zeroed. So the fragments an earlier process left are
        trusted only after their size and SHA-256 are checked again here; a wrong one is
        deleted and fetched again. The ones in sequence feed the whole-archive digests in the
        same read. Without per-fragment SHA-256 (an OCS server) every fragment was fsynced
        before its rename, as before, and is hashed at the install.
        """
        digest = self._digests.get(item.package_id)
        if digest is not None and digest.info == item.info:
            return digest
        info, directory = item.info, item.directory
        digest = self._digests[item.package_id] = ArchiveDigest(info)
        if len(info.fragments) != info.fragment_count:
            return digest
        for number, expected in enumerate(info.fragments, start=1):
            path = directory.fragment_path(number)
            if not path.is_file():
                continue
            hashers = digest.for_fragment(number)
            sha = hashlib.sha256()
            size = 0
            try:
                with open(path, "rb") as handle:
                    while chunk := handle.read(CHUNK):
                        sha.update(chunk)
                        size += len(chunk)
                        if hashers is not None:
                            hashers.update(chunk)
            except OSError:
                continue  # unreadable: the install's check reports ERR_BUILD
            if size == expected.size and sha.hexdigest() == expected.sha256:
                if hashers is not None:
                    digest.keep(number, hashers)
                continue
            log.warning(
                "package %s: fragment %d on disk is not the one listed: fetched again",
                item.package_id,
                number,
            )
            with contextlib.suppress(OSError):
                path.unlink()
        return digest

    def _step(self, item: Active) -> tuple[bool, bool]:
        """One step of a package: (something moved, the package is finished)."""
        self._archive_digest(item)  # this process's first step: fragments on disk checked again
        number = item.directory.next_fragment(item.info.fragment_count)
        if number is not None:
            return self._fetch_fragment(item, number)
        self._install(item)
        return True, True

    def _fetch_fragment(self, item: Active, number: int) -> tuple[bool, bool]:
        info, package_id = item.info, item.package_id
        expected = info.fragments[number - 1] if info.fragments else None
        target = item.directory.fragment_path(number)
        free = free_bytes(item.directory.path) - MARGIN
        if expected is not None and expected.size > free:
            log.warning(
                "package %s: fragment %d needs %d bytes, %d free", package_id, number, expected.size, free
            )
            self._finish(package_id, codes.OUT_OF_SPACE)
            return True, True
        url = f"{info.protocol}://{item.pack.pack_location}/{package_id}/{package_id}-{number}"
        archive = self._archive_digest(item)
        if number <= archive.fed:
            archive.reset()  # a fragment already hashed went missing: all hashed again at the install
        hashers = archive.for_fragment(number)
        try:
            # Continuing a cut download is safe only when the fragment's SHA-256 is known;
            # so is skipping its fsync (see _archive_digest).
            fetched = self.fetcher.get_file(
                url,
                target,
                expected.size if expected else MAX_FRAGMENT,
                max(free, 0),
                resume=expected is not None,
                also=hashers,
                durable=expected is None,
            )
        except FetchError as exc:
            return self._fetch_failed(item, number, exc)
        except OutOfSpaceError as exc:
            log.warning("package %s: %s", package_id, exc)
            self._finish(package_id, codes.OUT_OF_SPACE)
            return True, True
        if expected is not None and (fetched.size != expected.size or fetched.sha256 != expected.sha256):
            fetched.path.unlink()
            if fetched.resumed:
                # The kept part may be what was wrong (a crash mid-write): fetched whole next time.
                log.warning(
                    "package %s: resumed fragment %d does not match; fetching it whole", package_id, number
                )
                return False, False
            log.warning("package %s: fragment %d does not match its SHA-256", package_id, number)
            self._finish(package_id, codes.BAD_DIGEST)
            return True, True
        try:
            os.replace(fetched.path, target)
        except OSError:
            return False, False
        if hashers is not None:
            archive.keep(number, hashers)
        with contextlib.suppress(OSError):
            item.directory.clear_fetch_failures()
        log.debug("package %s: fragment %d/%d", package_id, number, info.fragment_count)
        return True, False

    def _fetch_failed(self, item: Active, number: int, exc: FetchError) -> tuple[bool, bool]:
        """A fragment download failed: retried later, until it has failed for too long (ERR_DOWNLOAD_PACK).

        Both OCS agents define ERR_DOWNLOAD_PACK and never send it (protocol.md §9.4): the
        Unix agent retries a missing fragment every cycle until TIMEOUT days (30 by default)
        end in ERR_TIMEOUT, so a package whose fragments are not on the server shows nothing
        for a month. Here a fragment that failed FETCH_ATTEMPTS times in a row (the
        WindowsAgent's retries per fragment, §9.3), over at least FETCH_GIVE_UP_SECONDS, gives
        ERR_DOWNLOAD_PACK: a fragment server down for an hour, or a run with no latencies
        (ten attempts in a second), is not enough.
        """
        package_id = item.package_id
        now = self.clock.now()
        try:
            count, first = item.directory.record_fetch_failure(number, now)
        except OSError:
            count, first = 1, now
        if count >= FETCH_ATTEMPTS and now - first >= FETCH_GIVE_UP_SECONDS:
            log.warning(
                "package %s: fragment %d failed %d times in %.1f hours (%s): giving up",
                package_id,
                number,
                count,
                (now - first) / 3600,
                exc,
            )
            self._finish(package_id, codes.DOWNLOAD_PACK)
            return True, True
        log.warning("package %s: fragment %d not fetched (retried later): %s", package_id, number, exc)
        return False, False

    def _install(self, item: Active) -> None:
        info, directory, package_id = item.info, item.directory, item.package_id
        fragments = directory.fragments(info.fragment_count)
        if fragments:
            try:
                # Usually only a comparison: the fragments were hashed as they arrived.
                self._archive_digest(item).check(fragments)
            except DigestError as exc:
                log.warning("package %s: %s; nothing runs", package_id, exc)
                self._finish(package_id, codes.BAD_DIGEST)
                return
            except OSError:
                self._finish(package_id, codes.BUILD)
                return
        shutil.rmtree(directory.work_dir, ignore_errors=True)  # a half extraction before a crash
        try:
            extract(fragments, directory.work_dir, free_bytes(directory.path))
        except ArchiveError as exc:
            log.warning("package %s: %s", package_id, exc)
            self._finish(package_id, codes.BUILD)
            return
        except NoSpaceError as exc:
            log.warning("package %s: %s", package_id, exc)
            self._finish(package_id, codes.OUT_OF_SPACE)
            return
        except OSError as exc:
            log.warning("package %s: extraction failed: %s", package_id, exc)
            self._finish(package_id, codes.OUT_OF_SPACE if is_out_of_space(exc) else codes.BUILD)
            return
        try:
            write_atomically(directory.started_path, f"{int(self.clock.now())}\n".encode("ascii"))
        except OSError as exc:
            self._finish(package_id, codes.OUT_OF_SPACE if is_out_of_space(exc) else codes.BUILD)
            return
        if info.notify_user:
            # NOTIFY_* is a WindowsAgent dialog (protocol.md §8.2); no dialog here: logged, not shown.
            log.info(
                "package %s asks to notify the user (%r): no dialog on this agent",
                package_id,
                info.notify_text,
            )
        timeout = self.command_timeout
        if timeout is None:
            timeout = self.conf.execution_timeout_minutes * 60.0
        code = run_action(info, directory.work_dir, self.vardir, timeout)
        self._finish(package_id, code, done=True)


def deploy_after_contact(
    options: tuple[Node, ...] | list[Node],
    *,
    vardir: Path,
    device_id: str,
    server_url: str,
    verify: bool,
    ca_file: Path | None,
    timeout: float,
    accept_unsigned: bool = False,
    clock: Clock | None = None,
) -> None:
    """The hook of an agent run: deploy what the PROLOG reply announced, when it says ON=1."""
    announcement = read_announcement(options)
    if announcement is None:
        return
    _run_engine(
        lambda engine: engine.deploy(announcement),
        vardir=vardir,
        device_id=device_id,
        server_url=server_url,
        verify=verify,
        ca_file=ca_file,
        timeout=timeout,
        accept_unsigned=accept_unsigned,
        clock=clock,
    )


def resume_downloads(
    *,
    vardir: Path,
    device_id: str,
    server_url: str,
    verify: bool,
    ca_file: Path | None,
    timeout: float,
    accept_unsigned: bool = False,
) -> None:
    """Go on with the packages on disk under the last CONF, without a PROLOG (``__main__``)."""
    _run_engine(
        Engine.resume,
        vardir=vardir,
        device_id=device_id,
        server_url=server_url,
        verify=verify,
        ca_file=ca_file,
        timeout=timeout,
        accept_unsigned=accept_unsigned,
        clock=None,
    )


def _run_engine(
    work: Callable[[Engine], None],
    *,
    vardir: Path,
    device_id: str,
    server_url: str,
    verify: bool,
    ca_file: Path | None,
    timeout: float,
    accept_unsigned: bool,
    clock: Clock | None,
) -> None:
    key_path = find_public_key(vardir, ca_file)
    try:
        public_key = key_path.read_bytes() if key_path is not None else None
        context = tls_context(verify=verify, ca_file=ca_file)
        client = Client(server_url, verify=verify, ca_file=ca_file, timeout=timeout)
    except (OSError, ServerError) as exc:
        log.warning("deployment skipped: %s", exc)
        return
    try:
        work(
            Engine(
                vardir=vardir,
                device_id=device_id,
                poster=client,
                fetcher=Fetcher(context, timeout=min(timeout, 60.0)),
                clock=clock,
                public_key=public_key,
                accept_unsigned=accept_unsigned,
            )
        )
    except OSError as exc:
        # The state directory itself cannot be written (a full disk, a read-only mount):
        # every state file is replaced atomically, so nothing is half-written; next run retries.
        log.error("deployment stopped: %s", exc)
    finally:
        client.close()
