"""Default serial and MAC blacklists for duplicate detection."""

from django.db import migrations

SERIALS = (
    "N/A", "NA", "0", "00000000", "0123456789", "123456789", "NNNNNNNN", "xxxxxxxx", "XXXXXXXX",
    "To be filled by O.E.M.", "To Be Filled By O.E.M.", "Default string", "System Serial Number",
    "Chassis Serial Number", "SerialNumber", "Not Specified", "Not Applicable", "None", "INVALID",
)
MACS = (
    "00:00:00:00:00:00", "FF:FF:FF:FF:FF:FF", "44:45:53:54:00:00", "44:45:53:54:00:01",
    "02:00:4C:4F:4F:50", "00:50:56:C0:00:01", "00:50:56:C0:00:08",
)


def add(apps, schema_editor):
    serials = apps.get_model("inventory", "BlacklistedSerial")
    macs = apps.get_model("inventory", "BlacklistedMac")
    for value in SERIALS:
        serials.objects.get_or_create(value=value)
    for value in MACS:
        macs.objects.get_or_create(value=value)


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]
    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
