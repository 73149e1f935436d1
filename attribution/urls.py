from django.urls import path

from attribution import api, script

app_name = "attribution"

urlpatterns = [
    path("v1/swap.js", script.swap_js, name="swap-js"),
    path("v1/visits", api.visits_view, name="visits"),
]
