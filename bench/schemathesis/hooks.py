"""Schemathesis hooks for bench/schemathesis/run.py: log in as the demo account, never edit that account."""

from __future__ import annotations

import json
import os
import urllib.parse
import urllib.request
from typing import Any

import schemathesis

BASE_URL = os.environ["SV_FUZZ_BASE_URL"]
USERNAME = os.environ["SV_FUZZ_USERNAME"]
PASSWORD = os.environ["SV_FUZZ_PASSWORD"]
SELF_ID = int(os.environ["SV_FUZZ_SELF_ID"])


@schemathesis.auth()
class DemoLogin:
    """A bearer token from the password flow; fetched again when a run revoked it (401)."""

    def get(self, case: Any, context: Any) -> str:
        body = urllib.parse.urlencode({"username": USERNAME, "password": PASSWORD}).encode()
        with urllib.request.urlopen(BASE_URL + "/api/v1/auth/token", data=body, timeout=30) as response:
            return str(json.load(response)["access_token"])

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schemathesis.hook
def filter_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> bool:
    # Deactivating or demoting the fuzzing account itself would end the run's access, not find a fault.
    return not path_parameters or path_parameters.get("user_id") != SELF_ID


@schemathesis.hook
def map_body(context: Any, body: Any) -> Any:
    # Tests and benches talk to 127.0.0.1 only: an address drawn for a camera (or the OpenAPI example's
    # 192.168.10.21) would send the server's ONVIF probe or WS-Discovery out of the machine. Port 9 (discard)
    # has nothing listening, so the probe is refused at once; the address fields' validation has tests of its own.
    if isinstance(body, dict) and "camera" in context.operation.path:
        if "host" in body:
            body["host"] = "127.0.0.1"
            body["port"] = 9
        if "target" in body:
            body["target"] = "127.0.0.1"
    return body


@schemathesis.check
def not_a_server_error_but_a_device(ctx: Any, response: Any, case: Any) -> None:
    """No 5xx answer, except 502 `device_error`: a camera that does not answer is reported as the device's fault."""
    if response.status_code < 500:
        return
    if response.status_code == 502:
        try:
            code = response.json()["error"]["code"]
        except (ValueError, KeyError, TypeError):
            code = ""
        if code == "device_error":
            return
    raise AssertionError(f"server error {response.status_code}: {response.text[:200]}")
