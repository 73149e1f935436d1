"""The demo landing page exists only while developing, and says what is missing without a
website for its host."""

from __future__ import annotations

import pytest

from attribution.models import Website

pytestmark = pytest.mark.django_db


def test_not_served_in_production(client, settings):
    settings.DEBUG = False
    Website.objects.create(name="Demo", domains="testserver", swap_targets="+15125550100")
    assert client.get("/demo/site/").status_code == 404


def test_without_a_website_for_the_host_it_says_how_to_add_one(client, settings):
    settings.DEBUG = True
    Website.objects.create(name="Elsewhere", domains="example.com", swap_targets="+15125550100")
    response = client.get("/demo/site/")
    assert response.status_code == 404
    assert response.templates[0].name == "attribution/demo_missing.html"
    assert response.context["host"] == "testserver"


def test_the_snippet_installed_is_the_websites(client, settings):
    settings.DEBUG = True
    website = Website.objects.create(
        name="Plumber <b>", domains="testserver", swap_targets="+15125550100"
    )
    response = client.get("/demo/site/")
    assert response.status_code == 200
    assert response.context["snippet"] == (
        '<script async src="http://testserver/dni/v1/swap.js" '
        f'data-website="{website.key}"></script>'
    )
    # The website's name is the marketer's text: escaped.
    assert b"Plumber &lt;b&gt;" in response.content
