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
