from django.urls import path

from whisper import agents, menus, views

app_name = "whisper"

urlpatterns = [
    path("voice/", views.incoming, name="incoming"),
    path("voice/fallback/", views.fallback, name="fallback"),
    path("voice/menu/", menus.choose, name="menu"),
    path("voice/challenge/", views.challenge, name="challenge"),
    path("voice/whisper/", views.screen, name="screen"),
    path("voice/whisper/decide/", views.decide, name="decide"),
    path("voice/leg-status/", views.leg_status, name="leg-status"),
    path("voice/dial-done/", views.dial_done, name="dial-done"),
    path("voice/voicemail/", views.voicemail_done, name="voicemail-done"),
    path("voice/recording/", views.recording, name="recording"),
    path("voice/transcription/", views.transcription, name="transcription"),
    path("voice/status/", views.status, name="status"),
    path("voice/agent/", agents.outgoing, name="agent-outgoing"),
]
