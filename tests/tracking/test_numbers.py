from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tracking.models import Destination, TrackingNumber
from tracking.phones import national, normalize
from tracking.routing import Route


@pytest.mark.django_db
def test_numbers_typed_the_local_way_are_stored_in_e164(campaign):
    number = TrackingNumber(
        phone_number="(512) 555-0101", campaign=campaign, forward_to="512.555.0177"
    )
    number.full_clean()

    assert number.phone_number == "+15125550101"
    assert number.forward_to == "+15125550177"


@pytest.mark.django_db
@pytest.mark.parametrize("raw", ["12", "not a number", "+1 555 0100", "+44 20"])
def test_a_bad_number_gets_a_clear_message(campaign, raw):
    number = TrackingNumber(phone_number=raw, campaign=campaign)
    with pytest.raises(ValidationError) as error:
        number.full_clean()
    [message] = error.value.message_dict["phone_number"]
    assert raw in message


@pytest.mark.django_db
def test_a_destination_number_is_validated(campaign):
    destination = Destination(campaign=campaign, label="London", phone_number="+44 20 7946 0958")
    destination.full_clean()
    assert destination.phone_number == "+442079460958"

    with pytest.raises(ValidationError) as error:
        Destination(campaign=campaign, label="Desk", phone_number="call me").full_clean()
    assert "phone_number" in error.value.message_dict


@pytest.mark.django_db
def test_a_number_rings_its_own_forward_or_its_campaigns_destinations(number):
    number.campaign.destinations.create(position=1, label="Owner", phone_number="+15125550122")
    route = Route.of(number)
    assert [(t.label, t.phone_number) for t in route.targets] == [
        ("Front desk", "+15125550199"),
        ("Owner", "+15125550122"),
    ]

    number.forward_to = "+15125550142"
    assert [(t.label, t.phone_number) for t in Route.of(number).targets] == [
        ("I-35 billboard", "+15125550142")
    ]


@pytest.mark.parametrize("raw", ["anonymous", "", "+266696687", "Restricted", "\u202e"])
def test_junk_from_twilio_is_kept_as_given(raw):
    assert normalize(raw) == raw.strip()


def test_numbers_are_shown_the_way_people_write_them():
    assert national("+15125550100") == "(512) 555-0100"
    assert national("anonymous") == "anonymous"


@pytest.mark.django_db
def test_the_after_hours_number_cannot_be_a_tracking_number(number):
    campaign = number.campaign
    campaign.after_hours_action = campaign.AfterHours.FORWARD
    campaign.after_hours_number = "(512) 555-0100"

    with pytest.raises(ValidationError) as error:
        campaign.full_clean()

    assert "tracking number" in error.value.message_dict["after_hours_number"][0]
