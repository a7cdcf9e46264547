from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_it_reports_healthy(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json()["checks"]["database"] == "ok"


@pytest.mark.django_db
def test_it_names_an_unreachable_broker(client, settings):
    # Port 9 (discard) has no Redis behind it on this machine: a real refusal.
    settings.REDIS_URL = "redis://127.0.0.1:9/0"
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["broker"]
    assert body["checks"] == {"database": "ok", "broker": "down"}


def test_it_names_an_unreachable_database():
    # A separate process pointed at a port with no database behind it: a real outage.
    script = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/healthz/');"
        "print(r.status_code, json.dumps(r.json()))"
    )
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://postgres@127.0.0.1:9/nowhere",
        "DJANGO_SETTINGS_MODULE": "claims_portal.settings",
    }
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    status, body = result.stdout.strip().splitlines()[-1].split(" ", 1)
    assert status == "503", result.stderr[-2000:]
    assert json.loads(body)["down"] == ["database"]
