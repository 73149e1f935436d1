"""The marketers' admin: the dashboard, campaigns and their numbers, the read-only call log,
its export and the reports. One module per model; each registers itself on `admin.site`."""

from django.contrib import admin

# Each registers its models.
from tracking.admin import agents, calls, campaigns, leads, numbers, screening  # noqa: F401

admin.site.site_header = "Call Tracking"
admin.site.site_title = "Call Tracking"
admin.site.index_title = "Dashboard"
admin.site.empty_value_display = "—"
# The admin is the whole site: "View site" would lead back here.
admin.site.site_url = None
