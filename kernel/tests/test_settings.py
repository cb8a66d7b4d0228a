from __future__ import annotations

import pytest

from adgen_kernel.settings import ServiceSettings, missing_settings_message


def test_missing_settings_name_the_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "ADGEN_NATS_URL",
        "ADGEN_DATABASE_URL",
        "ADGEN_S3_ENDPOINT",
        "ADGEN_S3_ACCESS_KEY",
        "ADGEN_S3_SECRET_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(Exception) as raised:
        ServiceSettings()  # type: ignore[call-arg]
    message = missing_settings_message(raised.value)
    assert "ADGEN_NATS_URL" in message and "ADGEN_DATABASE_URL" in message and "ADGEN_S3_ENDPOINT" in message
