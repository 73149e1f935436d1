import json

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from calltracking.urls import urlpatterns as app_urlpatterns

FIXED_TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Dial answerOnBridge="true" '
    'action="/twilio/voice/dial-done/" timeout="20"><Number url="/twilio/voice/whisper/">'
    "+15125550199</Number></Dial></Response>"
)


@csrf_exempt
@require_POST
def floor(request):
    """The least a Django view can do for a webhook: a fixed TwiML answer."""
    return HttpResponse(FIXED_TWIML, content_type="text/xml")


@csrf_exempt
@require_POST
def write_floor(request):
    """The least a webhook that logs a call can do: one durable single-row write, no
    signature, no ORM, a fixed TwiML answer."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_floor (call_sid) VALUES (%s) ON CONFLICT DO NOTHING",
            [request.POST.get("CallSid", "")],
        )
    return HttpResponse(FIXED_TWIML, content_type="text/xml")


@csrf_exempt
@require_POST
def floor_b(request):
    """Floor B, the least an incoming webhook can do: one indexed SELECT (the tracking number)
    and one single-row INSERT (the call), no signature, no ORM, a fixed TwiML answer."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, campaign_id FROM tracking_trackingnumber WHERE phone_number = %s",
            [request.POST.get("To", "")],
        )
        cursor.fetchone()
        cursor.execute(
            "INSERT INTO bench_floor (call_sid) VALUES (%s) ON CONFLICT DO NOTHING",
            [request.POST.get("CallSid", "")],
        )
    return HttpResponse(FIXED_TWIML, content_type="text/xml")


@csrf_exempt
@require_POST
def floor_c(request):
    """Floor C, an incoming call's own writes and nothing more: the call, its leg and its
    attribution, inserted as the app inserts them (`services.call_start`, with the tracking
    number, campaign and phone to ring read once per process), no signature, no routing, no
    screening, a fixed TwiML answer. What the incoming webhook must at least spend."""
    from tracking import services
    from tracking.models import TrackingNumber

    to = request.POST.get("To", "")
    if to not in _numbers:
        number = TrackingNumber.objects.select_related("campaign").get(phone_number=to)
        destination = number.campaign.destinations.first()
        target = services.Target(destination.label, destination.phone_number, destination.pk)
        _numbers[to] = (number.pk, number.campaign_id, target)
    number_id, campaign_id, target = _numbers[to]
    call = services.IncomingCall(
        sid=request.POST.get("CallSid", ""), called=to, caller=request.POST.get("From", "")
    )
    services.call_start(call=call, number_id=number_id, campaign_id=campaign_id, targets=[target])
    return HttpResponse(FIXED_TWIML, content_type="text/xml")


_numbers: dict[str, tuple] = {}


# What the number endpoint answers a visitor, as a fixed document.
FIXED_VISIT = {
    "visitor": "v_0123456789abcdefghijkl",
    "swaps": [{"target": "+15125550100", "number": "+15125550177"}],
    "heartbeat": 60,
    "cookie_days": 90,
    "first": {"page": "https://www.example.com/", "referrer": "", "at": 1764750000},
}


@csrf_exempt
@require_POST
def dni_floor(request):
    """The least a Django view can do for the website script: read its JSON body and answer
    a fixed JSON document."""
    json.loads(request.body)
    return JsonResponse(FIXED_VISIT)


urlpatterns = [
    path("bench/floor/", floor),
    path("bench/write-floor/", write_floor),
    path("bench/floor-b/", floor_b),
    path("bench/floor-c/", floor_c),
    path("bench/dni-floor/", dni_floor),
    *app_urlpatterns,
]
