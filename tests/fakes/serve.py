"""The fake OpenAI and Replicate servers as one standalone process, for a stack started by hand:

    .venv/bin/python tests/fakes/serve.py --rate 0.3 --seed 1 > fakes.env
    env $(cat fakes.env) .venv/bin/adgen up

It prints the ADGEN_* variables that point the services at the fakes, then serves until SIGINT or
SIGTERM. Faults are injected at `--rate` (see fakes.faults); videos should name the video model it
prints (its clips have the model's real length and frame rate); MusicGen gets WAVs and OpenAI
answers with a 10 s plan.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chaos.chaos_run import VIDEO_MODEL, Fakes, stack_env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=0.0, help="share of provider requests that go wrong")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with Fakes(args.rate, args.seed) as fakes:
        env = stack_env(fakes)
        for name in ("ADGEN_OPENAI_API_KEY", "ADGEN_OPENAI_BASE_URL", "ADGEN_REPLICATE_API_TOKEN"):
            print(f"{name}={env[name]}")
        print(f"ADGEN_REPLICATE_BASE_URL={env['ADGEN_REPLICATE_BASE_URL']}")
        print("ADGEN_MUSIC_PROVIDER=replicate")
        print(f"# videos: --video-model {VIDEO_MODEL}", flush=True)
        stop.wait()
        print(
            f"# faults injected: replicate {fakes.replicate.faults.summary()}, openai {fakes.openai.faults.summary()}"
        )


if __name__ == "__main__":
    main()
