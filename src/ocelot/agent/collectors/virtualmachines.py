"""VIRTUALMACHINES: libvirt domains (``virsh list --all``) and Docker containers when present.

NAME, STATUS ("running", "shut off", ...), UUID, VMID, SUBSYSTEM ("libvirt", "docker") and
VMTYPE ("kvm"/"qemu" from libvirt's URI, "container"), as the Unix agent's Virtualization
modules send them; formats from virsh(1) and ``docker ps --format``.
"""

from __future__ import annotations

from ocelot.agent.host import Host

SECTION = "VIRTUALMACHINES"

DOCKER_PS = ["docker", "ps", "-a", "--no-trunc", "--format", "{{.ID}}\t{{.Names}}\t{{.State}}"]


def libvirt(host: Host) -> list[dict[str, str]]:
    output = host.output(["virsh", "--readonly", "list", "--all"])
    if output is None:
        return []
    rows = []
    for line in output.splitlines()[2:]:
        parts = line.split(None, 2)
        if len(parts) < 3:
            continue
        vmid, name, state = parts
        uuid = (host.output(["virsh", "--readonly", "domuuid", name]) or "").strip()
        rows.append(
            {
                "NAME": name,
                "STATUS": state.strip(),
                "SUBSYSTEM": "libvirt",
                "UUID": uuid,
                "VMID": "" if vmid == "-" else vmid,
                "VMTYPE": "kvm",
            }
        )
    return rows


def docker(host: Host) -> list[dict[str, str]]:
    rows = []
    for line in (host.output(DOCKER_PS) or "").splitlines():
        parts = line.split("\t")
        if len(parts) != 3:
            continue
        container_id, name, state = parts
        rows.append(
            {
                "NAME": name,
                "STATUS": state,
                "SUBSYSTEM": "docker",
                "UUID": container_id,
                "VMID": container_id[:12],
                "VMTYPE": "container",
            }
        )
    return rows


def collect(host: Host, found: dict[str, list[dict[str, str]]]) -> list[dict[str, str]]:
    return [*libvirt(host), *docker(host)]
