"""Lead qualification: each campaign's rule, the audit on a call, and tags."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.screening.test_admin import _accepted_call, _act, marketer, marketer_client  # noqa: F401
from tests.whisper.steps import CALLER, answered, dial_done, incoming, pressed, status
from tracking import leads
from tracking.models import Call


def _call(twilio, sid, *, talk, caller=CALLER, accept=True):
    response = incoming(twilio, sid=sid, From=caller)
    whisper = answered(twilio, response, child_sid=sid + "L")
    pressed(twilio, whisper, "1" if accept else "2", child_sid=sid + "L")
    dial_done(
        twilio,
        response,
        sid=sid,
        DialCallStatus="completed",
        DialBridged="true" if accept else "false",
        DialCallDuration=str(talk),
    )
    status(twilio, sid=sid)
    return Call.objects.get(call_sid=sid)


def _agrees(call: Call) -> bool:
    """The audit and the SQL expression say the same of `call`."""
    in_sql = Call.objects.filter(pk=call.pk).filter(leads.qualified_condition()).exists()
    assert leads.qualification(call).qualified == in_sql
    return in_sql


@pytest.mark.django_db
def test_an_accepted_call_long_enough_qualifies_with_its_value(twilio, number):
    campaign = number.campaign
    campaign.lead_min_talk_seconds = 30
    campaign.lead_value = Decimal("120.00")
    campaign.lead_currency = "EUR"
    campaign.save()

    call = _call(twilio, "CA1", talk=45)

    result = leads.qualification(call)
    assert _agrees(call)
    assert [c.reason for c in result.checks] == [
        "Accepted by Front desk",
        "Talked 45 s (at least 30 s)",
        "Not spam",
    ]
    assert result.summary == "Qualified lead, worth 120.00 EUR"


@pytest.mark.django_db
def test_each_reason_a_call_does_not_qualify_is_given(twilio, number):
    short = _call(twilio, "CA1", talk=10)
    declined = _call(twilio, "CA2", talk=0, caller="+13125550777", accept=False)

    assert not _agrees(short)
    assert not _agrees(declined)
    assert [c.passed for c in leads.qualification(short).checks] == [True, False, True]
    assert leads.qualification(short).checks[1].reason == "Talked 10 s, under 60 s"
    assert leads.qualification(declined).checks[0].reason == (
        "Not accepted by a destination (Rejected)"
    )


@pytest.mark.django_db
def test_a_spam_call_never_qualifies(twilio, number):
    _call(twilio, "CA1", talk=300)
    from tracking import screening

    call = screening.call_set_spam(sid="CA1", spam="marked")
    call = Call.objects.get(pk=call.pk)

    assert not _agrees(call)
    assert leads.qualification(call).checks[2].reason == "Spam: Marked as spam in the admin"


@pytest.mark.django_db
def test_first_time_callers_only(twilio, number):
    number.campaign.lead_first_time_only = True
    number.campaign.save()
    Call.objects.create(
        call_sid="CA0", caller_number=CALLER, started_at=timezone.now() - timedelta(days=40)
    )

    again = _call(twilio, "CA1", talk=90)
    new = _call(twilio, "CA2", talk=90, caller="+13125550777")

    assert not _agrees(again)
    assert leads.qualification(again).checks[3].reason.startswith("Called before, first on ")
    assert _agrees(new)
    assert leads.qualification(new).checks[3].reason == "First call from this number"


@pytest.mark.django_db
def test_the_call_page_shows_the_audit(twilio, number, admin_client):
    call = _call(twilio, "CA1", talk=10)

    page = admin_client.get(reverse("admin:tracking_call_change", args=[call.pk])).content.decode()

    assert "Not a qualified lead" in page
    assert "Talked 10 s, under 60 s" in page


@pytest.mark.django_db
def test_tags_are_added_filtered_exported_and_removed(twilio, number, marketer_client):  # noqa: F811
    _call(twilio, "CA1", talk=90)
    _call(twilio, "CA2", talk=5, caller="+13125550777")
    url = reverse("admin:tracking_call_changelist")
    pks = list(Call.objects.filter(call_sid="CA1").values_list("pk", flat=True))

    marketer_client.post(
        url, {"action": "add_tags", "_selected_action": pks, "tags": "Quote sent, callback"}
    )

    assert sorted(Call.objects.get(call_sid="CA1").tags.values_list("name", flat=True)) == [
        "Quote sent",
        "callback",
    ]
    tag = Call.objects.get(call_sid="CA1").tags.get(name="callback")
    listed = marketer_client.get(url, {"tags__id__exact": tag.pk}).context["cl"].result_list
    assert [c.call_sid for c in listed] == ["CA1"]
    leads_only = marketer_client.get(url, {"lead": "yes"}).context["cl"].result_list
    assert [c.call_sid for c in leads_only] == ["CA1"]

    export = marketer_client.get(reverse("admin:tracking_call_export"))
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert {r["Call SID"]: (r["Qualified lead"], r["Tags"]) for r in rows} == {
        "CA1": ("True", "Quote sent, callback"),
        "CA2": ("False", ""),
    }

    marketer_client.post(
        url, {"action": "remove_tags", "_selected_action": pks, "tags": "CALLBACK"}
    )
    assert list(Call.objects.get(call_sid="CA1").tags.values_list("name", flat=True)) == [
        "Quote sent"
    ]


def test_typed_tags_are_tidied():
    assert leads.tag_names(" a  b , A B,, c ,") == ["a b", "c"]
