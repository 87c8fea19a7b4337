"""Talking to the web app as a person would: the password every user has, log-in through the form, tokens."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

PASSWORD = "correct horse 电池 staple"  # every user's, where a test logs in


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def log_in(client: FlaskClient, username: str) -> str:
    """Log in through the form; returns the CSRF token the pages would send."""
    token = csrf_of(client.get("/login").get_data(as_text=True))
    reply = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert reply.status_code == 302, reply.get_data(as_text=True)
    return csrf_of(client.get("/services").get_data(as_text=True))


def bearer(client: FlaskClient, username: str) -> dict[str, str]:
    """The Authorization header of an API token for `username`."""
    token = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD}).json["token"]
    return {"Authorization": f"Bearer {token}"}
