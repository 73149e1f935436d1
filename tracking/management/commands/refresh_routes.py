"""Fill the routing cache from the database, so calls ring even if it goes down later.

Run on deploy and after the cache has been wiped; campaign and number changes refresh it on
their own.
"""

from django.core.management.base import BaseCommand

from tracking import routing


class Command(BaseCommand):
    help = "Cache the route of every active tracking number."

    def handle(self, *args, **options):
        self.stdout.write(f"{routing.refresh_all()} routes cached")
