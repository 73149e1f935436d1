"""Send the voicemail and missed-call e-mails still owed.

Most notices go out (as jobs) as a call's webhooks come in; the worker runs this same sweep every
few minutes for the rest: a missed call that was offered voicemail, a voicemail whose
transcription never came, and notices whose sending failed. By hand, it sends them now.
"""

from django.core.management.base import BaseCommand

from tracking import notifications


class Command(BaseCommand):
    help = "E-mail the voicemail and missed-call notices that are due."

    def handle(self, *args, **options):
        sent = notifications.sweep()
        self.stdout.write(f"sent {sent} notifications")
