"""The inventory store: computers, their sections, software, account info and settings.

One model per inventory section (protocol.md §5.2). Field names are Ocelot's; the mapping
to OCS tags lives in ``ocelot.protocol.sections``. Every section row keeps the fields it
received that have no column in ``extra``, so nothing an agent sends is lost.
"""

from __future__ import annotations

from typing import Any

from django.db import models


class ExactCharField(models.CharField):  # type: ignore[type-arg]
    """Text compared byte for byte on every backend.

    MariaDB's default collation (utf8mb4_general_ci) ignores case, so two DEVICEIDs that
    differ only in case would be one computer there and two on SQLite and PostgreSQL.
    """

    def db_parameters(self, connection: Any) -> dict[str, Any]:
        params = super().db_parameters(connection)
        if connection.vendor == "mysql" and not self.db_collation:
            params["collation"] = "utf8mb4_bin"
        return params


class Computer(models.Model):
    """A machine that runs an agent or was imported: the HARDWARE section plus bookkeeping."""

    device_id = ExactCharField(max_length=255, unique=True)
    name = models.CharField(max_length=255, blank=True, default="", db_index=True)
    workgroup = models.TextField(blank=True, default="")
    user_domain = models.TextField(blank=True, default="")
    user_id = models.TextField(blank=True, default="")
    os_name = models.CharField(max_length=255, blank=True, default="", db_index=True)
    os_version = models.TextField(blank=True, default="")
    os_comments = models.TextField(blank=True, default="")
    processor_type = models.TextField(blank=True, default="")
    processor_speed = models.BigIntegerField(null=True, blank=True)
    processor_count = models.BigIntegerField(null=True, blank=True)
    memory = models.BigIntegerField(null=True, blank=True, help_text="MB")
    swap = models.BigIntegerField(null=True, blank=True, help_text="MB")
    ip_address = models.CharField(max_length=255, blank=True, default="", db_index=True)
    dns = models.TextField(blank=True, default="")
    default_gateway = models.TextField(blank=True, default="")
    description = models.TextField(blank=True, default="")
    hardware_type = models.TextField(blank=True, default="")
    uuid = models.CharField(max_length=255, blank=True, default="", db_index=True)
    last_logged_user = models.TextField(blank=True, default="")
    last_logged_user_date = models.TextField(blank=True, default="")
    os_install_date = models.TextField(blank=True, default="")
    inventory_duration = models.TextField(blank=True, default="")
    vm_system = models.TextField(blank=True, default="")
    windows_company = models.TextField(blank=True, default="")
    windows_owner = models.TextField(blank=True, default="")
    windows_product_id = models.TextField(blank=True, default="")
    windows_product_key = models.TextField(blank=True, default="")
    architecture = models.TextField(blank=True, default="")
    category_id = models.TextField(blank=True, default="")
    extra = models.JSONField(default=dict, blank=True)

    # Bookkeeping (protocol.md §4.3, §5.3, §6.1).
    checksum = models.BigIntegerField(default=262143, help_text="sections changed, OR-ed")
    fidelity = models.IntegerField(default=1, help_text="number of contacts")
    quality = models.FloatField(default=0, help_text="average days between contacts")
    first_seen_at = models.DateTimeField(auto_now_add=True)
    # Not indexed: every PROLOG writes it, and on PostgreSQL an indexed column makes that
    # update leave the page, with an entry in each of the table's eight indexes. Unindexed,
    # the update stays in the page (a heap-only tuple; migration 0011). Sorting or
    # filtering the console's list by it scans the table, as sorting by serial does.
    last_contact_at = models.DateTimeField(null=True, blank=True)
    last_inventory_at = models.DateTimeField(null=True, blank=True, db_index=True)
    source_ip = models.CharField(max_length=64, blank=True, default="")
    user_agent = models.CharField(max_length=255, blank=True, default="")
    imported = models.BooleanField(default=False, help_text="last inventory came from a file")

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name or self.device_id


class SectionRow(models.Model):
    """Common columns of a section row: its computer and the fields without a column."""

    computer = models.ForeignKey(Computer, on_delete=models.CASCADE)
    extra = models.JSONField(default=dict, blank=True)

    objects = models.Manager()
    section = ""

    class Meta:
        abstract = True


class Bios(SectionRow):
    """The BIOS and system board of a computer (one per computer). Section BIOS, bit 2."""

    computer = models.OneToOneField(Computer, on_delete=models.CASCADE, related_name="bios")
    system_manufacturer = models.TextField(blank=True, default="")
    system_model = models.CharField(max_length=255, blank=True, default="", db_index=True)
    system_serial = models.CharField(max_length=255, blank=True, default="", db_index=True)
    bios_manufacturer = models.TextField(blank=True, default="")
    bios_version = models.TextField(blank=True, default="")
    bios_date = models.TextField(blank=True, default="")
    board_manufacturer = models.TextField(blank=True, default="")
    board_model = models.TextField(blank=True, default="")
    board_serial = models.TextField(blank=True, default="")
    asset_tag = models.CharField(max_length=255, blank=True, default="", db_index=True)
    chassis_type = models.TextField(blank=True, default="")

    section = "bios"


class MemoryModule(SectionRow):
    """A memory slot or module. Section MEMORIES, bit 4."""

    capacity = models.TextField(blank=True, default="")
    caption = models.TextField(blank=True, default="")
    description = models.TextField(blank=True, default="")
    error_correction = models.TextField(blank=True, default="")
    manufacturer = models.TextField(blank=True, default="")
    slot_number = models.TextField(blank=True, default="")
    purpose = models.TextField(blank=True, default="")
    serial_number = models.TextField(blank=True, default="")
    speed = models.TextField(blank=True, default="")
    type = models.TextField(blank=True, default="")

    section = "memory_modules"

    class Meta(SectionRow.Meta):
        default_related_name = "memory_modules"


class Slot(SectionRow):
    """An expansion slot. Section SLOTS, bit 8."""

    description = models.TextField(blank=True, default="")
    designation = models.TextField(blank=True, default="")
    name = models.TextField(blank=True, default="")
    purpose = models.TextField(blank=True, default="")
    status = models.TextField(blank=True, default="")

    section = "slots"

    class Meta(SectionRow.Meta):
        default_related_name = "slots"


class RegistryValue(SectionRow):
    """A value read by a registry query (Windows agents). Section REGISTRY, bit 16."""

    name = models.TextField(blank=True, default="")
    value = models.TextField(blank=True, default="")

    section = "registry_values"

    class Meta(SectionRow.Meta):
        default_related_name = "registry_values"


class Controller(SectionRow):
    """A PCI or system controller. Section CONTROLLERS, bit 32."""

    caption = models.TextField(blank=True, default="")
    description = models.TextField(blank=True, default="")
    driver = models.TextField(blank=True, default="")
    manufacturer = models.TextField(blank=True, default="")
    name = models.TextField(blank=True, default="")
    pci_id = models.TextField(blank=True, default="")
    pci_slot = models.TextField(blank=True, default="")
    type = models.TextField(blank=True, default="")
    version = models.TextField(blank=True, default="")

    section = "controllers"

    class Meta(SectionRow.Meta):
        default_related_name = "controllers"


class Monitor(SectionRow):
    """A display, with its EDID when the agent sends it. Section MONITORS, bit 64."""

    edid_base64 = models.TextField(blank=True, default="")
    caption = models.TextField(blank=True, default="")
    description = models.TextField(blank=True, default="")
    manufacturer = models.TextField(blank=True, default="")
    serial = models.TextField(blank=True, default="")
    type = models.TextField(blank=True, default="")
    edid_uuencode = models.TextField(blank=True, default="")

    section = "monitors"

    class Meta(SectionRow.Meta):
        default_related_name = "monitors"


class Port(SectionRow):
    """A physical port. Section PORTS, bit 128."""

    caption = models.TextField(blank=True, default="")
    description = models.TextField(blank=True, default="")
    name = models.TextField(blank=True, default="")
    type = models.TextField(blank=True, default="")

    section = "ports"

    class Meta(SectionRow.Meta):
        default_related_name = "ports"


class Storage(SectionRow):
    """A disk or other block storage device. Section STORAGES, bit 256."""

    description = models.TextField(blank=True, default="")
    disk_size = models.TextField(blank=True, default="")
    firmware = models.TextField(blank=True, default="")
    manufacturer = models.TextField(blank=True, default="")
    model = models.TextField(blank=True, default="")
    name = models.TextField(blank=True, default="")
    serial_number = models.TextField(blank=True, default="")
    scsi_channel = models.TextField(blank=True, default="")
    scsi_controller = models.TextField(blank=True, default="")
    scsi_lun = models.TextField(blank=True, default="")
    scsi_unit = models.TextField(blank=True, default="")
    type = models.TextField(blank=True, default="")

    section = "storages"

    class Meta(SectionRow.Meta):
        default_related_name = "storages"


class Drive(SectionRow):
    """A mounted filesystem or Windows drive (sizes in MB). Section DRIVES, bit 512."""

    created_date = models.TextField(blank=True, default="")
    filesystem = models.TextField(blank=True, default="")
    free = models.BigIntegerField(null=True, blank=True)
    label = models.TextField(blank=True, default="")
    letter = models.TextField(blank=True, default="")
    file_count = models.BigIntegerField(null=True, blank=True)
    serial = models.TextField(blank=True, default="")
    total = models.BigIntegerField(null=True, blank=True)
    mount_point = models.TextField(blank=True, default="")
    volume = models.TextField(blank=True, default="")

    section = "drives"

    class Meta(SectionRow.Meta):
        default_related_name = "drives"


class InputDevice(SectionRow):
    """A keyboard, mouse or other input device. Section INPUTS, bit 1024."""

    caption = models.TextField(blank=True, default="")
    description = models.TextField(blank=True, default="")
    interface = models.TextField(blank=True, default="")
    manufacturer = models.TextField(blank=True, default="")
    pointing_type = models.TextField(blank=True, default="")
    type = models.TextField(blank=True, default="")

    section = "inputs"

    class Meta(SectionRow.Meta):
        default_related_name = "inputs"


class Modem(SectionRow):
    """A modem. Section MODEMS, bit 2048."""

    description = models.TextField(blank=True, default="")
    model = models.TextField(blank=True, default="")
    name = models.TextField(blank=True, default="")
    type = models.TextField(blank=True, default="")

    section = "modems"

    class Meta(SectionRow.Meta):
        default_related_name = "modems"


class NetworkInterface(SectionRow):
    """A network interface and one of its addresses. Section NETWORKS, bit 4096."""

    base = models.TextField(blank=True, default="")
    bssid = models.TextField(blank=True, default="")
    description = models.TextField(blank=True, default="")
    driver = models.TextField(blank=True, default="")
    duplex = models.TextField(blank=True, default="")
    ip_address = models.CharField(max_length=255, blank=True, default="", db_index=True)
    dhcp_server = models.TextField(blank=True, default="")
    gateway = models.TextField(blank=True, default="")
    netmask = models.TextField(blank=True, default="")
    subnet = models.CharField(max_length=255, blank=True, default="", db_index=True)
    mac = models.CharField(max_length=255, blank=True, default="", db_index=True)
    mode = models.TextField(blank=True, default="")
    mtu = models.TextField(blank=True, default="")
    pci_slot = models.TextField(blank=True, default="")
    slave = models.TextField(blank=True, default="")
    speed = models.TextField(blank=True, default="")
    ssid = models.TextField(blank=True, default="")
    status = models.TextField(blank=True, default="")
    type = models.TextField(blank=True, default="")
    mib_type = models.TextField(blank=True, default="")
    version = models.TextField(blank=True, default="")
    virtual_device = models.TextField(blank=True, default="")

    section = "networks"

    class Meta(SectionRow.Meta):
        default_related_name = "networks"


class Printer(SectionRow):
    """A printer known to the computer. Section PRINTERS, bit 8192."""

    description = models.TextField(blank=True, default="")
    driver = models.TextField(blank=True, default="")
    name = models.TextField(blank=True, default="")
    port = models.TextField(blank=True, default="")
    resolution = models.TextField(blank=True, default="")
    server_name = models.TextField(blank=True, default="")
    share_name = models.TextField(blank=True, default="")

    section = "printers"

    class Meta(SectionRow.Meta):
        default_related_name = "printers"


class SoundDevice(SectionRow):
    """A sound device. Section SOUNDS, bit 16384."""

    description = models.TextField(blank=True, default="")
    manufacturer = models.TextField(blank=True, default="")
    name = models.TextField(blank=True, default="")

    section = "sounds"

    class Meta(SectionRow.Meta):
        default_related_name = "sounds"


class VideoCard(SectionRow):
    """A video card. Section VIDEOS, bit 32768."""

    chipset = models.TextField(blank=True, default="")
    driver_version = models.TextField(blank=True, default="")
    memory = models.TextField(blank=True, default="")
    name = models.TextField(blank=True, default="")
    pci_id = models.TextField(blank=True, default="")
    pci_slot = models.TextField(blank=True, default="")
    resolution = models.TextField(blank=True, default="")
    speed = models.TextField(blank=True, default="")
    uuid = models.TextField(blank=True, default="")
    vbios = models.TextField(blank=True, default="")

    section = "videos"

    class Meta(SectionRow.Meta):
        default_related_name = "videos"


class VirtualMachine(SectionRow):
    """A virtual machine or container hosted by the computer. Section VIRTUALMACHINES, bit 131072."""

    cores = models.TextField(blank=True, default="")
    ip_address = models.TextField(blank=True, default="")
    memory = models.TextField(blank=True, default="")
    name = models.TextField(blank=True, default="")
    status = models.TextField(blank=True, default="")
    subsystem = models.TextField(blank=True, default="")
    uuid = models.TextField(blank=True, default="")
    vcpu = models.TextField(blank=True, default="")
    vm_id = models.TextField(blank=True, default="")
    vm_type = models.TextField(blank=True, default="")

    section = "virtual_machines"

    class Meta(SectionRow.Meta):
        default_related_name = "virtual_machines"


class Cpu(SectionRow):
    """A processor. Section CPUS, bit 262144."""

    cores = models.TextField(blank=True, default="")
    architecture = models.TextField(blank=True, default="")
    status = models.TextField(blank=True, default="")
    current_speed = models.TextField(blank=True, default="")
    data_width = models.TextField(blank=True, default="")
    hyperthreading = models.TextField(blank=True, default="")
    l2_cache_size = models.TextField(blank=True, default="")
    logical_cpus = models.TextField(blank=True, default="")
    manufacturer = models.TextField(blank=True, default="")
    name = models.TextField(blank=True, default="")
    sockets = models.TextField(blank=True, default="")
    serial_number = models.TextField(blank=True, default="")
    socket = models.TextField(blank=True, default="")
    speed = models.TextField(blank=True, default="")
    threads = models.TextField(blank=True, default="")
    type = models.TextField(blank=True, default="")
    voltage = models.TextField(blank=True, default="")

    section = "cpus"

    class Meta(SectionRow.Meta):
        default_related_name = "cpus"


class Sim(SectionRow):
    """A SIM card (mobile agents). Section SIM, bit 524288."""

    country = models.TextField(blank=True, default="")
    operator = models.TextField(blank=True, default="")
    operator_name = models.TextField(blank=True, default="")
    serial_number = models.TextField(blank=True, default="")
    device_id = models.TextField(blank=True, default="")

    section = "sims"

    class Meta(SectionRow.Meta):
        default_related_name = "sims"


class Battery(SectionRow):
    """A battery. Section BATTERIES, bit 1048576."""

    chemistry = models.TextField(blank=True, default="")
    design_capacity = models.TextField(blank=True, default="")
    design_voltage = models.TextField(blank=True, default="")
    location = models.TextField(blank=True, default="")
    manufacturer = models.TextField(blank=True, default="")
    manufacture_date = models.TextField(blank=True, default="")
    max_error = models.TextField(blank=True, default="")
    name = models.TextField(blank=True, default="")
    oem_specific = models.TextField(blank=True, default="")
    sbds_version = models.TextField(blank=True, default="")
    serial_number = models.TextField(blank=True, default="")

    section = "batteries"

    class Meta(SectionRow.Meta):
        default_related_name = "batteries"


class UsbDevice(SectionRow):
    """A USB device. Section USBDEVICES, bit 2097152."""

    description = models.TextField(blank=True, default="")
    interface = models.TextField(blank=True, default="")
    manufacturer = models.TextField(blank=True, default="")
    serial = models.TextField(blank=True, default="")
    type = models.TextField(blank=True, default="")

    section = "usb_devices"

    class Meta(SectionRow.Meta):
        default_related_name = "usb_devices"


class LoggedInUser(SectionRow):
    """A user logged in when the inventory ran. Section USERS."""

    login = models.TextField(blank=True, default="")

    section = "logged_in_users"

    class Meta(SectionRow.Meta):
        default_related_name = "logged_in_users"


class LocalUser(SectionRow):
    """A local user account. Section LOCAL_USERS."""

    gid = models.TextField(blank=True, default="")
    home = models.TextField(blank=True, default="")
    uid = models.TextField(blank=True, default="")
    login = models.TextField(blank=True, default="")
    name = models.TextField(blank=True, default="")
    shell = models.TextField(blank=True, default="")

    section = "local_users"

    class Meta(SectionRow.Meta):
        default_related_name = "local_users"


class LocalGroup(SectionRow):
    """A local group and its members. Section LOCAL_GROUPS."""

    gid = models.TextField(blank=True, default="")
    members = models.TextField(blank=True, default="")
    name = models.TextField(blank=True, default="")

    section = "local_groups"

    class Meta(SectionRow.Meta):
        default_related_name = "local_groups"


class Repository(SectionRow):
    """A package repository configured on the computer. Section REPOSITORY."""

    base_url = models.TextField(blank=True, default="")
    enabled = models.TextField(blank=True, default="")
    exclude = models.TextField(blank=True, default="")
    expire = models.TextField(blank=True, default="")
    expired = models.TextField(blank=True, default="")
    filename = models.TextField(blank=True, default="")
    last_updated = models.TextField(blank=True, default="")
    mirrors = models.TextField(blank=True, default="")
    name = models.TextField(blank=True, default="")
    packages = models.TextField(blank=True, default="")
    revision = models.TextField(blank=True, default="")
    size = models.TextField(blank=True, default="")
    updated = models.TextField(blank=True, default="")

    section = "repositories"

    class Meta(SectionRow.Meta):
        default_related_name = "repositories"


class Process(SectionRow):
    """A process running when the inventory ran. Section RUNNING_PROCESSES."""

    command = models.TextField(blank=True, default="")
    cpu_usage = models.TextField(blank=True, default="")
    memory_usage = models.TextField(blank=True, default="")
    pid = models.TextField(blank=True, default="")
    started = models.TextField(blank=True, default="")
    tty = models.TextField(blank=True, default="")
    user = models.TextField(blank=True, default="")
    virtual_memory = models.TextField(blank=True, default="")

    section = "processes"

    class Meta(SectionRow.Meta):
        default_related_name = "processes"


class PowerSupply(SectionRow):
    """A power supply unit. Section POWERSUPPLIES."""

    hot_replaceable = models.TextField(blank=True, default="")
    location = models.TextField(blank=True, default="")
    manufacturer = models.TextField(blank=True, default="")
    model = models.TextField(blank=True, default="")
    name = models.TextField(blank=True, default="")
    part_number = models.TextField(blank=True, default="")
    plugged = models.TextField(blank=True, default="")
    power_max = models.TextField(blank=True, default="")
    serial_number = models.TextField(blank=True, default="")
    status = models.TextField(blank=True, default="")

    section = "power_supplies"

    class Meta(SectionRow.Meta):
        default_related_name = "power_supplies"


class Software(models.Model):
    """One catalogue entry per distinct name, publisher and version (normalised software).

    ``key`` is the SHA-256 of the three values: a fixed-size unique key that every
    database can index, whatever the length of the names.
    """

    key = models.CharField(max_length=64, unique=True)
    name = models.TextField()
    publisher = models.TextField(blank=True, default="")
    version = models.TextField(blank=True, default="")
    category = models.CharField(max_length=255, blank=True, default="", db_index=True)

    class Meta:
        verbose_name_plural = "software"

    def __str__(self) -> str:
        return f"{self.name} {self.version}".strip()


class SoftwareInstallation(SectionRow):
    """One piece of software installed on one computer. Section SOFTWARES, bit 65536."""

    # Not checked by PostgreSQL and MariaDB either (SQLite keeps its check, migration 0009):
    # the check ran once per installation, 800 per first inventory, and was about a third
    # of PostgreSQL's work for it. Nothing can leave an installation without its computer: an
    # inventory writes them holding its computer's row lock (or a computer no other
    # transaction can see yet), and every deletion of computers locks them before Django
    # collects their rows (``mass_actions.delete_computers``, ``duplicates``).
    computer = models.ForeignKey(Computer, on_delete=models.CASCADE, db_constraint=False)

    # No index of its own: "installed_software_computer" below starts with this column and
    # serves every lookup by software; a second index only cost each inventory's 800
    # inserts their upkeep (bench/README.md, "Where the time goes"). No database check
    # either (SQLite keeps its own): the catalogue only grows, and the per-row check of
    # 800 installations was a third of PostgreSQL's work for a first inventory (migration
    # 0008). PROTECT still refuses, in the ORM, to delete an entry that is installed.
    software = models.ForeignKey(
        Software, on_delete=models.PROTECT, related_name="installations", db_index=False, db_constraint=False
    )
    comments = models.TextField(blank=True, default="")
    file_size = models.BigIntegerField(null=True, blank=True)
    folder = models.TextField(blank=True, default="")
    source = models.TextField(blank=True, default="")
    install_date = models.TextField(blank=True, default="")
    architecture = models.TextField(blank=True, default="")
    bits_width = models.TextField(blank=True, default="")
    filename = models.TextField(blank=True, default="")
    guid = models.TextField(blank=True, default="")
    language = models.TextField(blank=True, default="")
    status = models.TextField(blank=True, default="")

    section = "software"

    class Meta(SectionRow.Meta):
        default_related_name = "software"
        indexes = [
            # Software criteria of the search read "the computers having these catalogue
            # entries": with both columns in one index the database answers from the index
            # alone (no table row per installation). Over 1,000,000 installations a
            # two-software search went from 120-170 ms to 10-18 ms (bench/pages.py).
            models.Index(fields=["software", "computer"], name="installed_software_computer"),
        ]


class OtherSection(SectionRow):
    """A section this server has no model for (e.g. FusionInventory's ENVS), kept as sent."""

    tag = models.CharField(max_length=64)
    data = models.JSONField(default=dict)

    class Meta(SectionRow.Meta):
        default_related_name = "other_sections"


class AccountInfo(models.Model):
    """Administrative data of a computer: the TAG (protocol.md §5.4)."""

    computer = models.OneToOneField(Computer, on_delete=models.CASCADE, related_name="account_info")
    tag = models.CharField(max_length=255, blank=True, default="", db_index=True)

    def __str__(self) -> str:
        return self.tag


class AccountField(models.Model):
    """An administrator-defined account info field (seed: "Éditer les informations administratives")."""

    TEXT = "text"
    INTEGER = "integer"
    REAL = "real"
    DATE = "date"
    KINDS = [(TEXT, "Text"), (INTEGER, "Integer"), (REAL, "Real"), (DATE, "Date")]

    name = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=16, choices=KINDS, default=TEXT)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class AccountValue(models.Model):
    """The value of one account info field for one computer, typed by the field's kind."""

    computer = models.ForeignKey(Computer, on_delete=models.CASCADE, related_name="account_values")
    field = models.ForeignKey(AccountField, on_delete=models.CASCADE, related_name="values")
    text = models.TextField(blank=True, default="", help_text="the value as agents see it")
    integer = models.BigIntegerField(null=True, blank=True)
    real = models.FloatField(null=True, blank=True)
    date = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["computer", "field"], name="one_value_per_field")]


class PackageHistoryEntry(models.Model):
    """A package the agent lists in its history of done packages (protocol.md §5.5)."""

    computer = models.ForeignKey(Computer, on_delete=models.CASCADE, related_name="package_history")
    package_id = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["computer", "package_id"], name="one_history_entry")]


class Group(models.Model):
    """A set of computers; settings and assignments may target it.

    A static group has no ``criteria``: its members are forced in by hand. A dynamic group
    is a saved multi-criteria search (``criteria``: a list of ``{field, operator, value,
    value2}``, the form ``inventory.search`` takes); its computed members are cached in
    :class:`GroupMember` rows (OCS ``groups_cache``, protocol.md §8) recomputed at
    ``computed_at`` (see ``inventory.groups``).
    """

    name = models.CharField(max_length=255, unique=True)
    description = models.TextField(blank=True, default="")
    visible = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    criteria = models.JSONField(null=True, blank=True, default=None)
    computed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class GroupMember(models.Model):
    """A computer in a group: computed from the group's search, forced in, or excluded."""

    DYNAMIC = "dynamic"
    STATIC = "static"
    EXCLUDED = "excluded"
    KINDS = [(DYNAMIC, "Dynamic"), (STATIC, "Static"), (EXCLUDED, "Excluded")]

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="members")
    computer = models.ForeignKey(Computer, on_delete=models.CASCADE, related_name="group_members")
    kind = models.CharField(max_length=16, choices=KINDS, default=STATIC)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "computer"], name="one_membership")]


class Setting(models.Model):
    """A general option set by an administrator; absent means the catalogue default."""

    name = models.CharField(max_length=64, primary_key=True)
    value = models.TextField()

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class SettingOverride(models.Model):
    """A setting for one computer or one group, taking precedence over the global value."""

    name = models.CharField(max_length=64)
    value = models.TextField()
    computer = models.ForeignKey(
        Computer,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="setting_overrides",
    )
    group = models.ForeignKey(
        Group,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="setting_overrides",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["computer", "name"], name="one_override_per_computer"),
            models.UniqueConstraint(fields=["group", "name"], name="one_override_per_group"),
            models.CheckConstraint(
                condition=models.Q(computer__isnull=True) ^ models.Q(group__isnull=True),
                name="override_has_one_target",
            ),
        ]


class RegistryQuery(models.Model):
    """A registry value Windows agents read and report (seed: "requêtes sur le Registre")."""

    HIVES = [
        (0, "HKEY_CLASSES_ROOT"),
        (1, "HKEY_CURRENT_USER"),
        (2, "HKEY_LOCAL_MACHINE"),
        (3, "HKEY_USERS"),
        (4, "HKEY_CURRENT_CONFIG"),
        (5, "HKEY_DYN_DATA"),
    ]

    name = models.CharField(max_length=255, unique=True)
    hive = models.IntegerField(choices=HIVES, default=2)
    key = models.TextField()
    value_name = models.CharField(max_length=255, help_text="'*' reads every value of the key")

    def __str__(self) -> str:
        return self.name


class ContactSession(models.Model):
    """A contact that asked for an inventory, for INVENTORY_SESSION_ONLY (OCS prolog_conntrack)."""

    device_id = ExactCharField(max_length=255, unique=True)
    started_at = models.DateTimeField()


class BlacklistedSerial(models.Model):
    """A serial number that never identifies a computer (duplicate detection)."""

    value = models.CharField(max_length=255, unique=True)


class BlacklistedMac(models.Model):
    """A MAC address that never identifies a computer (duplicate detection)."""

    value = models.CharField(max_length=64, unique=True)


SECTION_MODELS: dict[str, type[SectionRow]] = {
    model.section: model
    for model in (
        Bios,
        MemoryModule,
        Slot,
        RegistryValue,
        Controller,
        Monitor,
        Port,
        Storage,
        Drive,
        InputDevice,
        Modem,
        NetworkInterface,
        Printer,
        SoundDevice,
        VideoCard,
        VirtualMachine,
        Cpu,
        Sim,
        Battery,
        UsbDevice,
        LoggedInUser,
        LocalUser,
        LocalGroup,
        Repository,
        Process,
        PowerSupply,
    )
}
