"""The inventory sections: OCS tag names mapped to Ocelot's section and field names.

Fields are those of the Unix agent 2.10 whitelist (protocol.md §5.2), the OCS server map
(Windows-only HARDWARE fields such as USERDOMAIN or WINPRODKEY, NETWORKS/TYPEMIB, software
columns) and FusionInventory's alternative names (SOFTWARES/ARCH, CPUS/CORE, THREAD).
A field whose kind is ``int`` must hold an integer (decimals are truncated, as MySQL's
integer columns do); anything else in it is refused. Fields outside these lists are kept
as they came, in each row's ``extra`` mapping, so nothing an agent sends is lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

Kind = Literal["text", "int"]


@dataclass(frozen=True)
class FieldSpec:
    """One field: its OCS tag (and aliases), Ocelot's name and its kind."""

    tag: str
    name: str
    kind: Kind = "text"
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class SectionSpec:
    """One section: OCS tag, Ocelot name, CHECKSUM bit (0 = always rewritten), fields."""

    tag: str
    name: str
    bit: int
    fields: tuple[FieldSpec, ...]
    multiple: bool = True

    def field_by_tag(self) -> dict[str, FieldSpec]:
        """Tags and aliases to their field (built once: it is read for every row)."""
        return self._field_table

    @cached_property
    def _field_table(self) -> dict[str, FieldSpec]:
        table: dict[str, FieldSpec] = {}
        for spec in self.fields:
            table[spec.tag] = spec
            for alias in spec.aliases:
                table.setdefault(alias, spec)
        return table


def _f(tag: str, name: str, kind: Kind = "text", *aliases: str) -> FieldSpec:
    return FieldSpec(tag, name, kind, tuple(aliases))


# HARDWARE is the computer itself (protocol.md §5.2 and the OCS server map).
HARDWARE = SectionSpec(
    "HARDWARE",
    "hardware",
    1,
    (
        _f("NAME", "name"),
        _f("WORKGROUP", "workgroup"),
        _f("USERDOMAIN", "user_domain"),
        _f("USERID", "user_id"),
        _f("OSNAME", "os_name"),
        _f("OSVERSION", "os_version"),
        _f("OSCOMMENTS", "os_comments"),
        _f("PROCESSORT", "processor_type"),
        _f("PROCESSORS", "processor_speed", "int"),
        _f("PROCESSORN", "processor_count", "int"),
        _f("MEMORY", "memory", "int"),
        _f("SWAP", "swap", "int"),
        _f("IPADDR", "ip_address"),
        _f("DNS", "dns"),
        _f("DEFAULTGATEWAY", "default_gateway"),
        _f("DESCRIPTION", "description"),
        _f("TYPE", "hardware_type"),
        _f("UUID", "uuid"),
        _f("LASTLOGGEDUSER", "last_logged_user"),
        _f("DATELASTLOGGEDUSER", "last_logged_user_date"),
        _f("INSTALLDATE", "os_install_date"),
        _f("ETIME", "inventory_duration"),
        _f("VMSYSTEM", "vm_system"),
        _f("WINCOMPANY", "windows_company"),
        _f("WINOWNER", "windows_owner"),
        _f("WINPRODID", "windows_product_id"),
        _f("WINPRODKEY", "windows_product_key"),
        _f("ARCH", "architecture"),
        _f("CATEGORY_ID", "category_id"),
        _f("CHECKSUM", "checksum", "int"),
    ),
    multiple=False,
)

SECTIONS: tuple[SectionSpec, ...] = (
    HARDWARE,
    SectionSpec(
        "BIOS",
        "bios",
        2,
        (
            _f("SMANUFACTURER", "system_manufacturer"),
            _f("SMODEL", "system_model"),
            _f("SSN", "system_serial"),
            _f("BMANUFACTURER", "bios_manufacturer"),
            _f("BVERSION", "bios_version"),
            _f("BDATE", "bios_date"),
            _f("MMANUFACTURER", "board_manufacturer"),
            _f("MMODEL", "board_model"),
            _f("MSN", "board_serial"),
            _f("ASSETTAG", "asset_tag"),
            _f("TYPE", "chassis_type"),
        ),
        multiple=False,
    ),
    SectionSpec(
        "MEMORIES",
        "memory_modules",
        4,
        (
            _f("CAPACITY", "capacity"),
            _f("CAPTION", "caption"),
            _f("DESCRIPTION", "description"),
            _f("ERRORCORRECTIONTYPE", "error_correction"),
            _f("MANUFACTURER", "manufacturer"),
            _f("NUMSLOTS", "slot_number"),
            _f("PURPOSE", "purpose"),
            _f("SERIALNUMBER", "serial_number"),
            _f("SPEED", "speed"),
            _f("TYPE", "type"),
        ),
    ),
    SectionSpec(
        "SLOTS",
        "slots",
        8,
        (
            _f("DESCRIPTION", "description"),
            _f("DESIGNATION", "designation"),
            _f("NAME", "name"),
            _f("PURPOSE", "purpose"),
            _f("STATUS", "status"),
        ),
    ),
    SectionSpec(
        "REGISTRY",
        "registry_values",
        16,
        (_f("NAME", "name"), _f("REGVALUE", "value")),
    ),
    SectionSpec(
        "CONTROLLERS",
        "controllers",
        32,
        (
            _f("CAPTION", "caption"),
            _f("DESCRIPTION", "description"),
            _f("DRIVER", "driver"),
            _f("MANUFACTURER", "manufacturer"),
            _f("NAME", "name"),
            _f("PCIID", "pci_id"),
            _f("PCISLOT", "pci_slot"),
            _f("TYPE", "type"),
            _f("VERSION", "version"),
        ),
    ),
    SectionSpec(
        "MONITORS",
        "monitors",
        64,
        (
            _f("BASE64", "edid_base64"),
            _f("CAPTION", "caption"),
            _f("DESCRIPTION", "description"),
            _f("MANUFACTURER", "manufacturer"),
            _f("SERIAL", "serial"),
            _f("TYPE", "type"),
            _f("UUENCODE", "edid_uuencode"),
        ),
    ),
    SectionSpec(
        "PORTS",
        "ports",
        128,
        (
            _f("CAPTION", "caption"),
            _f("DESCRIPTION", "description"),
            _f("NAME", "name"),
            _f("TYPE", "type"),
        ),
    ),
    SectionSpec(
        "STORAGES",
        "storages",
        256,
        (
            _f("DESCRIPTION", "description"),
            _f("DISKSIZE", "disk_size"),
            _f("FIRMWARE", "firmware"),
            _f("MANUFACTURER", "manufacturer"),
            _f("MODEL", "model"),
            _f("NAME", "name"),
            _f("SERIALNUMBER", "serial_number"),
            _f("SCSI_CHID", "scsi_channel"),
            _f("SCSI_COID", "scsi_controller"),
            _f("SCSI_LUN", "scsi_lun"),
            _f("SCSI_UNID", "scsi_unit"),
            _f("TYPE", "type"),
        ),
    ),
    SectionSpec(
        "DRIVES",
        "drives",
        512,
        (
            _f("CREATEDATE", "created_date"),
            _f("FILESYSTEM", "filesystem"),
            _f("FREE", "free", "int"),
            _f("LABEL", "label"),
            _f("LETTER", "letter"),
            _f("NUMFILES", "file_count", "int"),
            _f("SERIAL", "serial"),
            _f("TOTAL", "total", "int"),
            _f("TYPE", "mount_point"),
            _f("VOLUMN", "volume"),
        ),
    ),
    SectionSpec(
        "INPUTS",
        "inputs",
        1024,
        (
            _f("CAPTION", "caption"),
            _f("DESCRIPTION", "description"),
            _f("INTERFACE", "interface"),
            _f("MANUFACTURER", "manufacturer"),
            _f("POINTTYPE", "pointing_type"),
            _f("TYPE", "type"),
        ),
    ),
    SectionSpec(
        "MODEMS",
        "modems",
        2048,
        (
            _f("DESCRIPTION", "description"),
            _f("MODEL", "model"),
            _f("NAME", "name"),
            _f("TYPE", "type"),
        ),
    ),
    SectionSpec(
        "NETWORKS",
        "networks",
        4096,
        (
            _f("BASE", "base"),
            _f("BSSID", "bssid"),
            _f("DESCRIPTION", "description"),
            _f("DRIVER", "driver"),
            _f("DUPLEX", "duplex"),
            _f("IPADDRESS", "ip_address"),
            _f("IPDHCP", "dhcp_server"),
            _f("IPGATEWAY", "gateway"),
            _f("IPMASK", "netmask"),
            _f("IPSUBNET", "subnet"),
            _f("MACADDR", "mac"),
            _f("MODE", "mode"),
            _f("MTU", "mtu"),
            _f("PCISLOT", "pci_slot"),
            _f("SLAVE", "slave"),
            _f("SPEED", "speed"),
            _f("SSID", "ssid"),
            _f("STATUS", "status"),
            _f("TYPE", "type"),
            _f("TYPEMIB", "mib_type"),
            _f("VERSION", "version"),
            _f("VIRTUALDEV", "virtual_device"),
        ),
    ),
    SectionSpec(
        "PRINTERS",
        "printers",
        8192,
        (
            _f("DESCRIPTION", "description"),
            _f("DRIVER", "driver"),
            _f("NAME", "name"),
            _f("PORT", "port"),
            _f("RESOLUTION", "resolution"),
            _f("SERVERNAME", "server_name"),
            _f("SHARENAME", "share_name"),
        ),
    ),
    SectionSpec(
        "SOUNDS",
        "sounds",
        16384,
        (
            _f("DESCRIPTION", "description"),
            _f("MANUFACTURER", "manufacturer"),
            _f("NAME", "name"),
        ),
    ),
    SectionSpec(
        "VIDEOS",
        "videos",
        32768,
        (
            _f("CHIPSET", "chipset"),
            _f("DRVVERSION", "driver_version"),
            _f("MEMORY", "memory"),
            _f("NAME", "name"),
            _f("PCIID", "pci_id"),
            _f("PCISLOT", "pci_slot"),
            _f("RESOLUTION", "resolution"),
            _f("SPEED", "speed"),
            _f("UUID", "uuid"),
            _f("VBIOS", "vbios"),
        ),
    ),
    SectionSpec(
        "SOFTWARES",
        "software",
        65536,
        (
            _f("NAME", "name"),
            _f("VERSION", "version"),
            _f("PUBLISHER", "publisher"),
            _f("COMMENTS", "comments"),
            _f("FILESIZE", "file_size", "int"),
            _f("FOLDER", "folder"),
            _f("FROM", "source", "text", "SOURCE"),
            _f("INSTALLDATE", "install_date"),
            _f("ARCHITECTURE", "architecture", "text", "ARCH"),
            _f("BITSWIDTH", "bits_width"),
            _f("FILENAME", "filename"),
            _f("GUID", "guid"),
            _f("LANGUAGE", "language"),
            _f("STATUS", "status"),
        ),
    ),
    SectionSpec(
        "VIRTUALMACHINES",
        "virtual_machines",
        131072,
        (
            _f("CORES", "cores"),
            _f("IPADDR", "ip_address"),
            _f("MEMORY", "memory"),
            _f("NAME", "name"),
            _f("STATUS", "status"),
            _f("SUBSYSTEM", "subsystem"),
            _f("UUID", "uuid"),
            _f("VCPU", "vcpu"),
            _f("VMID", "vm_id"),
            _f("VMTYPE", "vm_type"),
        ),
    ),
    SectionSpec(
        "CPUS",
        "cpus",
        262144,
        (
            _f("CORES", "cores", "text", "CORE"),
            _f("CPUARCH", "architecture", "text", "ARCH"),
            _f("CPUSTATUS", "status"),
            _f("CURRENT_SPEED", "current_speed"),
            _f("DATA_WIDTH", "data_width"),
            _f("HPT", "hyperthreading"),
            _f("L2CACHESIZE", "l2_cache_size"),
            _f("LOGICAL_CPUS", "logical_cpus"),
            _f("MANUFACTURER", "manufacturer"),
            _f("NAME", "name"),
            _f("NBSOCKET", "sockets"),
            _f("SERIALNUMBER", "serial_number"),
            _f("SOCKET", "socket"),
            _f("SPEED", "speed"),
            _f("THREADS", "threads", "text", "THREAD"),
            _f("TYPE", "type"),
            _f("VOLTAGE", "voltage"),
        ),
    ),
    SectionSpec(
        "SIM",
        "sims",
        524288,
        (
            _f("COUNTRY", "country"),
            _f("OPERATOR", "operator"),
            _f("OPNAME", "operator_name"),
            _f("SERIALNUMBER", "serial_number"),
            _f("DEVICEID", "device_id"),
        ),
    ),
    SectionSpec(
        "BATTERIES",
        "batteries",
        1048576,
        (
            _f("CHEMISTRY", "chemistry"),
            _f("DESIGNCAPACITY", "design_capacity"),
            _f("DESIGNVOLTAGE", "design_voltage"),
            _f("LOCATION", "location"),
            _f("MANUFACTURER", "manufacturer"),
            _f("MANUFACTUREDATE", "manufacture_date"),
            _f("MAXERROR", "max_error"),
            _f("NAME", "name"),
            _f("OEMSPECIFIC", "oem_specific"),
            _f("SBDSVERSION", "sbds_version"),
            _f("SERIALNUMBER", "serial_number"),
        ),
    ),
    SectionSpec(
        "USBDEVICES",
        "usb_devices",
        2097152,
        (
            _f("DESCRIPTION", "description"),
            _f("INTERFACE", "interface"),
            _f("MANUFACTURER", "manufacturer"),
            _f("SERIAL", "serial"),
            _f("TYPE", "type"),
        ),
    ),
    # Sections outside the CHECKSUM bits: rewritten from every inventory (protocol.md §5.3).
    SectionSpec("USERS", "logged_in_users", 0, (_f("LOGIN", "login"),)),
    SectionSpec(
        "LOCAL_USERS",
        "local_users",
        0,
        (
            _f("GID", "gid"),
            _f("HOME", "home"),
            _f("ID_USER", "uid"),
            _f("LOGIN", "login"),
            _f("NAME", "name"),
            _f("SHELL", "shell"),
        ),
    ),
    SectionSpec(
        "LOCAL_GROUPS",
        "local_groups",
        0,
        (_f("ID_GROUP", "gid"), _f("MEMBER", "members"), _f("NAME", "name")),
    ),
    SectionSpec(
        "REPOSITORY",
        "repositories",
        0,
        (
            _f("BASEURL", "base_url"),
            _f("ENABLED", "enabled"),
            _f("EXCLUDE", "exclude"),
            _f("EXPIRE", "expire"),
            _f("EXPIRED", "expired"),
            _f("FILENAME", "filename"),
            _f("LASTUPDATED", "last_updated"),
            _f("MIRRORS", "mirrors"),
            _f("NAME", "name"),
            _f("PKGS", "packages"),
            _f("REVISION", "revision"),
            _f("SIZE", "size"),
            _f("UPDATED", "updated"),
        ),
    ),
    SectionSpec(
        "RUNNING_PROCESSES",
        "processes",
        0,
        (
            _f("CMD", "command"),
            _f("CPUUSAGE", "cpu_usage"),
            _f("MEM", "memory_usage"),
            _f("PID", "pid"),
            _f("STARTED", "started"),
            _f("TTY", "tty"),
            _f("USER", "user"),
            _f("VIRTUALMEMORY", "virtual_memory"),
        ),
    ),
    SectionSpec(
        "POWERSUPPLIES",
        "power_supplies",
        0,
        (
            _f("HOTREPLACEABLE", "hot_replaceable"),
            _f("LOCATION", "location"),
            _f("MANUFACTURER", "manufacturer"),
            _f("MODEL", "model"),
            _f("NAME", "name"),
            _f("PARTNUM", "part_number"),
            _f("PLUGGED", "plugged"),
            _f("POWER_MAX", "power_max"),
            _f("SERIALNUMBER", "serial_number"),
            _f("STATUS", "status"),
        ),
    ),
)

SECTIONS_BY_TAG: dict[str, SectionSpec] = {spec.tag: spec for spec in SECTIONS}
SECTIONS_BY_NAME: dict[str, SectionSpec] = {spec.name: spec for spec in SECTIONS}

# Every bit the Unix agent sets on a first run or in local mode (protocol.md §5.3).
ALL_AGENT_BITS = 1572863

# CONTENT children that are not inventory sections but carry protocol data.
# FusionInventory's VERSIONCLIENT is not among them: it is kept with the unknown sections.
CONTROL_TAGS = frozenset({"ACCOUNTINFO", "DOWNLOAD", "IPDISCOVER", "OLD_DEVICEID"})
