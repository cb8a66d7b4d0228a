"""The reduced chaos run (`make chaos` is the full one): a few videos through the gateway of a real
stack of processes while every service is killed with SIGKILL once, NATS and Postgres are restarted,
S3 goes away for a few seconds and NATS loses its data directory, with provider faults at 30 %.
Every video completes (the one its video model refused, after a retry), decodes to its planned
length, is paid once per unit, and leaves no work message and no intermediate object behind."""

from __future__ import annotations

from pathlib import Path

import pytest
from chaos.chaos_run import ChaosConfig, ChaosPlan, run_chaos

from adgen_cli.stack import SERVICES

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("processes")]


def test_a_plan_does_everything_once_at_its_own_time_and_the_same_for_a_seed() -> None:
    plan = ChaosPlan.draw(seed=7, window_s=110.0)
    kinds = sorted((a.kind, a.target) for a in plan.actions)
    expected = [("kill", name) for name in SERVICES]
    expected += [("restart_nats", ""), ("restart_postgres", ""), ("s3_outage", ""), ("wipe_nats", "")]
    assert kinds == sorted(expected)
    times = [a.at_s for a in plan.actions]
    assert times == sorted(times) and 0 < times[0] and times[-1] < 110.0
    slot = 110.0 / len(plan.actions)
    assert all(i * slot <= t < (i + 1) * slot for i, t in enumerate(times)), "one action per slot"
    assert ChaosPlan.draw(seed=7, window_s=110.0) == plan
    assert ChaosPlan.draw(seed=8, window_s=110.0) != plan


def test_a_broken_stack_loses_nothing_and_pays_nothing_twice(tmp_path: Path) -> None:
    result = run_chaos(ChaosConfig(videos=3, fault_rate=0.3, seed=3, window_s=75.0, timeout_s=420.0), tmp_path)
    print("\n".join(result.lines()))
    assert len(result.actions_done) == len(result.plan.actions), result.actions_done
    assert [reason for _, reason in result.failed_with_reason] and all(
        "flagged" in reason for _, reason in result.failed_with_reason
    ), result.failed_with_reason
    assert result.problems() == []
    assert result.completed == 3 and result.lost == 0 and result.duplicate_charges == 0
