"""Deployment records: packages, activations, assignments, and the results agents report."""

from __future__ import annotations

from django.db import models

from ocelot.inventory.models import Computer, Group


class ReportedResult(models.Model):
    """A result an agent reported for a package (QUERY=DOWNLOAD, protocol.md §7).

    A journal of every report from a known computer, stored as received. Only
    :func:`ocelot.deployment.results.record_result` gives a report meaning: it sets the
    status of the assignment the report belongs to (``bound``); an unbound report changes
    nothing else.
    """

    computer = models.ForeignKey(Computer, on_delete=models.CASCADE, related_name="reported_results")
    package_id = models.BigIntegerField(db_index=True)
    code = models.CharField(max_length=64)
    bound = models.BooleanField(default=False)
    reported_at = models.DateTimeField(auto_now_add=True)


class AgentFile(models.Model):
    """A file served to agent launchers under /ocsinventory/deploy/<name> when DEPLOY is on.

    The TAG prompt ``label`` is one of them, as in OCS's ``deploy`` table.
    """

    name = models.CharField(max_length=255, unique=True)
    content = models.BinaryField()
    uploaded_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class Package(models.Model):
    """A package we deploy: an archive (or none), an action and a priority (OCS download_available).

    ``package_id`` is OCS's FILEID: the build time in seconds, made unique; it names the
    directory ``download/<ID>/`` holding ``info`` and the fragments ``<ID>-1`` .. ``<ID>-n``
    (protocol.md §8.1). The digests are also in the signed info file; they are kept here so
    activation can check what a web server answers without reading the files.
    """

    class OperatingSystem(models.TextChoices):
        WINDOWS = "windows", "Windows"
        LINUX = "linux", "Linux"
        MACOS = "macos", "macOS"

    class Protocol(models.TextChoices):
        HTTP = "HTTP", "HTTP"
        HTTPS = "HTTPS", "HTTPS"

    class Action(models.TextChoices):
        LAUNCH = "LAUNCH", "Launch"
        EXECUTE = "EXECUTE", "Execute"
        STORE = "STORE", "Store"

    package_id = models.BigIntegerField(unique=True)
    name = models.CharField(max_length=255, unique=True)
    description = models.TextField(blank=True)
    os = models.CharField(max_length=16, choices=OperatingSystem.choices)
    protocol = models.CharField(max_length=5, choices=Protocol.choices, default=Protocol.HTTP)
    priority = models.PositiveSmallIntegerField(default=5)
    action = models.CharField(max_length=8, choices=Action.choices)
    # LAUNCH: the archive's file to run and its arguments (info NAME); EXECUTE: the command.
    command = models.CharField(max_length=1024, blank=True)
    # STORE: the directory the archive's content goes to (info PATH).
    path = models.CharField(max_length=1024, blank=True)
    notify_user = models.BooleanField(default=False)
    notify_text = models.TextField(blank=True)
    notify_countdown = models.PositiveIntegerField(null=True, blank=True)
    notify_can_abort = models.BooleanField(default=False)
    notify_can_delay = models.BooleanField(default=False)
    need_done_action = models.BooleanField(default=False)
    need_done_action_text = models.TextField(blank=True)
    # The uploaded file's own name: metadata only, never a storage path (security.md T37).
    archive_name = models.CharField(max_length=255, blank=True)
    archive_format = models.CharField(max_length=8, blank=True)
    size = models.BigIntegerField(default=0)
    fragment_count = models.PositiveIntegerField(default=0)
    md5 = models.CharField(max_length=32, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    # [{"size": n, "sha256": hex}, ...] in fragment order.
    fragments = models.JSONField(default=list)
    key_id = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-package_id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.package_id})"


class Activation(models.Model):
    """Where agents fetch a package (OCS download_enable, protocol.md §8.3).

    ``info_location`` and ``fragment_location`` are ``host[:port]/path`` without a scheme:
    agents fetch ``https://<info_location>/<ID>/info`` and the fragments with the info
    file's PROTO (§4.4). A package may have several (one per site, seeds 002 "Activate").
    Deleting an activation (deactivation) removes its assignments; the files stay.
    """

    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="activations")
    info_location = models.CharField(max_length=255)
    fragment_location = models.CharField(max_length=255)
    activated_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["package", "info_location", "fragment_location"], name="one_activation_per_location"
            )
        ]

    def __str__(self) -> str:
        return f"{self.package.package_id} at {self.info_location} / {self.fragment_location}"


class Assignment(models.Model):
    """A package targeted at one computer, with its status (OCS devices NAME='DOWNLOAD').

    ``status`` is ``""`` while waiting for notification, ``NOTIFIED`` once a contact
    announced it, then the code the agent reported, verbatim (protocol.md §8.3, §9.4).
    ``package`` repeats ``activation.package`` so that one package is assigned at most
    once per computer and results bind by (computer, package ID) without a join.
    """

    WAITING = ""
    NOTIFIED = "NOTIFIED"

    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="assignments")
    activation = models.ForeignKey(Activation, on_delete=models.CASCADE, related_name="assignments")
    computer = models.ForeignKey(Computer, on_delete=models.CASCADE, related_name="assignments")
    status = models.CharField(max_length=64, blank=True, default="")
    force = models.BooleanField(default=False)
    # ``YYYY/MM/DD HH:MM``, the agent's wall-clock time (Windows waits for it; §4.4).
    schedule = models.CharField(max_length=16, blank=True, default="")
    # REBOOT, SHUTDOWN or a command run after success (Windows agents).
    post_command = models.CharField(max_length=1024, blank=True, default="")
    assigned_at = models.DateTimeField()
    notified_at = models.DateTimeField(null=True, blank=True)
    result_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["package", "computer"], name="one_assignment_per_package")
        ]
        indexes = [models.Index(fields=["computer", "status"], name="assignment_pending")]

    def __str__(self) -> str:
        return f"{self.package_id} -> {self.computer_id}: {self.status or 'WAITING NOTIFICATION'}"


class GroupAssignment(models.Model):
    """A package targeted at a group (OCS devices NAME='DOWNLOAD' on a group row, §4.4).

    Assigning to a group creates an :class:`Assignment` for each member of the moment, and
    this row, so that a computer joining the group later gets its own assignment at its
    next contact (OCS's group path with DOWNLOAD_GROUPS_TRACE_EVENTS=1). Statuses are
    always per computer.
    """

    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="group_assignments")
    activation = models.ForeignKey(Activation, on_delete=models.CASCADE, related_name="group_assignments")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="package_assignments")
    force = models.BooleanField(default=False)
    schedule = models.CharField(max_length=16, blank=True, default="")
    post_command = models.CharField(max_length=1024, blank=True, default="")
    assigned_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["package", "group"], name="one_group_assignment_per_package")
        ]

    def __str__(self) -> str:
        return f"{self.package_id} -> group {self.group_id}"
