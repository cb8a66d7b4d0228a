"""The upload quota: one more asset must fit both the count and the bytes, and a refusal says how to
make room and when to try again."""

from __future__ import annotations

import pytest

from adgen_assets.quota import RETRY_AFTER_S, Quota, Usage, check
from adgen_kernel.errors import ResourceExhausted

QUOTA = Quota(max_assets=3, max_bytes=10 * 1024**2)


def test_an_upload_that_fits_passes() -> None:
    check(QUOTA, Usage(assets=2, bytes=4 * 1024**2), 6 * 1024**2)  # exactly at both limits afterwards


@pytest.mark.parametrize(
    ("used", "incoming", "words"),
    [
        (Usage(3, 0), 1, ["3 of 3 assets", "delete"]),
        (Usage(1, 9 * 1024**2), 2 * 1024**2, ["9.0 MiB of 10.0 MiB", "needs 2.0 MiB", "delete"]),
    ],
)
def test_an_upload_past_either_limit_is_refused_with_a_retry_after(
    used: Usage, incoming: int, words: list[str]
) -> None:
    with pytest.raises(ResourceExhausted) as refused:
        check(QUOTA, used, incoming)
    assert all(w in refused.value.message for w in words), refused.value.message
    assert refused.value.retry_after_s == RETRY_AFTER_S
