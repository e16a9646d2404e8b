"""Schemathesis against the OpenAPI document served at /apidocs (fake plugins, in-process WSGI).

Bounded for ``make test`` (SCHEMATHESIS_EXAMPLES, default 25 per operation); ``make fuzz`` runs longer.
"""
from __future__ import annotations

import os

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import positive_data_acceptance  # noqa: E402

from facecore.app import create_app  # noqa: E402
from tests.fakes import FAKE_SETTINGS, fake_pipeline  # noqa: E402

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "25"))
SETTINGS = FAKE_SETTINGS.with_overrides(extras=("fake.AgeDetector", "fake.LandmarksDetector", "fake.PoseEstimator"))
APP = create_app(SETTINGS, pipeline=fake_pipeline(SETTINGS))
schema = schemathesis.openapi.from_wsgi("/apidocs", APP)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_api_conforms(case):
    # a schema-valid body can still be an unreadable picture (a 400 by design): positive_data_acceptance is off
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
