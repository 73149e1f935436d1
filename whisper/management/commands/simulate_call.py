"""Make a phone call to the app without Twilio: `python manage.py simulate_call --to … --from …`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from tracking import phones
from tracking.models import Call
from whisper import simulator


class Command(BaseCommand):
    help = (
        "Play Twilio's part in one call to a tracking number: signed webhooks, each destination "
        "that rings (one after another or all at once) with its whisper and key, the dial "
        "results, voicemail (message, recording, transcription), a recorded conversation and "
        "the status callback; then show the call-log row, its destinations and recordings."
    )

    # The start-up warning about a missing TWILIO_AUTH_TOKEN does not apply: in-process runs
    # bring their own token, and --url runs say so themselves.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("--to", required=True, help="The tracking number dialled.")
        parser.add_argument("--from", dest="caller", required=True, help="The caller's number.")
        parser.add_argument("--city", default="", help="FromCity, e.g. AUSTIN.")
        parser.add_argument("--state", default="", help="FromState, e.g. TX.")
        parser.add_argument("--zip", default="", help="FromZip, e.g. 78701.")
        parser.add_argument("--country", default="", help="FromCountry, e.g. US.")
        parser.add_argument("--caller-name", default="", help="CallerName (CNAM).")
        parser.add_argument(
            "--answer",
            dest="answers",
            action="append",
            choices=simulator.ANSWERS,
            metavar="ANSWER",
            help="What the next phone to ring does: "
            + ", ".join(simulator.ANSWERS)
            + ". Repeat it for each destination, in the order they ring (all at once: in "
            "the order of the campaign's destinations), e.g. --answer decline --answer accept; "
            "the last one given stands for the phones after it (default: accept). hang-up: the "
            "caller gives up while it rings; hang-up-in-whisper: it picks up and the caller "
            "gives up during the whisper; report-spam: it presses the report-spam key.",
        )
        parser.add_argument(
            "--stir",
            default="",
            metavar="VERSTAT",
            help="StirVerstat, the caller ID attestation Twilio sends, e.g. "
            "TN-Validation-Passed-A, TN-Validation-Failed-C, No-TN-Validation (default: none).",
        )
        parser.add_argument(
            "--challenge-key",
            default="right",
            choices=simulator.CHALLENGE_KEYS,
            help="What the caller does if asked to press a key to be connected: the key asked "
            "(right), another (wrong), nothing (none), or hang up (default: right).",
        )
        parser.add_argument(
            "--press",
            dest="presses",
            action="append",
            metavar="KEY",
            help="What the caller answers the campaign's menu: a key (--press 2), words "
            f"(--press say:billing) or {simulator.HANG_UP}; repeat it for a menu played again "
            "(--press 7 --press 2). Without it the caller waits (the default option).",
        )
        parser.add_argument(
            "--talk", type=int, default=42, help="Seconds of conversation once connected."
        )
        parser.add_argument(
            "--message-seconds",
            type=int,
            default=simulator.DEFAULT_MESSAGE_SECONDS,
            help="If the caller reaches voicemail: the length of the message they leave, in "
            f"seconds (default: {simulator.DEFAULT_MESSAGE_SECONDS}); 0: they hang up without "
            "leaving one.",
        )
        parser.add_argument(
            "--transcription",
            default=simulator.DEFAULT_TRANSCRIPTION,
            help="The text Twilio's transcription of the message says, when the campaign asks "
            "for transcriptions (default: a short test message).",
        )
        parser.add_argument(
            "--url",
            help="A running server (e.g. http://127.0.0.1:8000) instead of this process. It "
            "must share TWILIO_AUTH_TOKEN (and PUBLIC_BASE_URL, if set) with this side.",
        )

    def handle(self, *args, **options) -> None:
        answers = tuple(options["answers"] or ("accept",))
        call = simulator.SimulatedCall(
            to=phones.normalize(options["to"]),
            caller=phones.normalize(options["caller"]),
            city=options["city"],
            state=options["state"],
            zip=options["zip"],
            country=options["country"],
            caller_name=options["caller_name"],
            answer=answers[0],
            answers=answers,
            talk_seconds=max(options["talk"], 0),
            message_seconds=max(options["message_seconds"], 0),
            transcription_text=options["transcription"],
            presses=tuple(options["presses"] or ()),
            stir_verstat=options["stir"],
            challenge_key=options["challenge_key"],
        )
        try:
            if options["url"]:
                transcript = simulator.simulate_over_http(
                    call, server=options["url"], echo=self.stdout.write
                )
            else:
                transcript = simulator.simulate_in_process(call, echo=self.stdout.write)
        except simulator.SimulationError as error:
            raise CommandError(str(error)) from None
        self._show_row(transcript.call_sid)

    def _show_row(self, sid: str) -> None:
        row = Call.objects.select_related("campaign").filter(call_sid=sid).first()
        if row is None:
            self.stdout.write(
                f"\nNo call-log row {sid} in this database (the server may use another one)."
            )
            return
        place = ", ".join(
            part
            for part in (row.caller_city, row.caller_state, row.caller_zip, row.caller_country)
            if part
        )
        dial = row.dial_status or "—"
        if row.dial_bridged is not None:
            dial += " (bridged)" if row.dial_bridged else " (not bridged)"
        fields = [
            ("outcome", row.get_outcome_display()),
            ("decision", row.get_decision_display() or "—"),
            ("campaign", str(row.campaign) if row.campaign else "—"),
            ("caller", f"{row.caller_number} {row.caller_name}".strip()),
            ("location", place or "—"),
            *([("menu choice", row.menu_choice or "none (hung up)")] if row.menu_at else []),
            ("forwarded to", row.forwarded_to or "—"),
            ("after hours", "yes" if row.after_hours else "no"),
            ("taken by", row.answered_by or "—"),
            ("dial", dial),
            ("talk", f"{row.talk_seconds} s" if row.talk_seconds is not None else "—"),
            ("duration", f"{row.duration_seconds} s" if row.duration_seconds is not None else "—"),
        ]
        if row.stir_verstat:
            fields.append(("attestation", row.stir_verstat))
        if row.screening_reason:
            passed = {True: "passed", False: "failed", None: "not answered"}
            fields.append(("screened", row.screening_reason))
            if not row.spam == Call.Spam.BLOCKED:
                fields.append(("challenge", passed[row.challenge_passed]))
        if row.spam:
            fields.append(("spam", row.get_spam_display()))
        self.stdout.write(f"\nCall log row {row.call_sid}:")
        for name, value in fields:
            self.stdout.write(f"  {name + ':':<14}{value}")
        for leg in row.legs.order_by("position"):
            self.stdout.write(
                f"  {'destination:':<14}{leg.position + 1}. {leg.label or '—'} "
                f"{leg.phone_number}: {leg.get_result_display()}"
            )
        for recording in row.recordings.all():
            line = f"{recording.get_kind_display()} {recording.recording_sid}"
            if recording.duration_seconds is not None:
                line += f", {recording.duration_seconds} s"
            if recording.transcription:
                line += f": “{recording.transcription}”"
            self.stdout.write(f"  {'recording:':<14}{line}")
        self.stdout.write(self.style.SUCCESS(f"Outcome: {row.get_outcome_display()}."))
