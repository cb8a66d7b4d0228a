# adgen — the front door. `make help` lists the targets.
SHELL := bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
ADGEN := $(VENV)/bin/adgen
PROMPT ?= 30 second ad for Morning Roast espresso, warm and inviting

.PHONY: help setup generate check-generated lint test browser fonts ffmpeg up down demo bench chaos k8s-render

help: ## List the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  \033[1m%-16s\033[0m %s\n", $$1, $$2}'

setup: ## Install what is missing (cached virtualenv, the adgen packages, buf)
	@bash scripts/setup.sh

generate: setup ## Regenerate the Python stubs in gen/python from protos/
	@$(PY) scripts/generate.py

check-generated: setup ## Fail when gen/python has drifted from protos/
	@tmp=$$(mktemp -d); $(PY) scripts/generate.py $$tmp; \
	if diff -r -x __pycache__ $$tmp/adgen gen/python/adgen >/dev/null; then echo "generated stubs are up to date"; rm -rf $$tmp; \
	else echo "gen/python differs from protos/: run 'make generate' and commit"; diff -r -x __pycache__ $$tmp/adgen gen/python/adgen | head -20; rm -rf $$tmp; exit 1; fi

lint: setup ## buf lint (STANDARD), ruff, and mypy over the hand-written code and its tests (strict for the pure decision modules)
	@cd protos && ../$(VENV)/bin/buf lint
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/mypy

test: check-generated lint k8s-render browser fonts ffmpeg ## Everything CI runs: generated-code check, lint, manifests, the three test tiers
	@$(PY) -m pytest -q

browser: setup ## Debian's chromium for the web page's browser test (installed when missing)
	@scripts/debian.sh browser

fonts: ## Debian's DejaVu fonts for the studio's supers (installed when missing)
	@scripts/debian.sh fonts

ffmpeg: ## Debian's ffmpeg, the refine tests' independent judge of loudness and true peak (installed when missing)
	@scripts/debian.sh ffmpeg

up: setup fonts ## Start the local stack (NATS, Postgres, S3, all services, gateway)
	@$(ADGEN) up

down: ## Stop the local stack
	@$(ADGEN) down

demo: setup fonts ## A fresh machine to an MP4 in out/: starts the stack and renders PROMPT
	@$(ADGEN) up
	@$(PY) scripts/demo_photo.py out/coffee.png >/dev/null
	@$(ADGEN) generate "$(PROMPT)" --duration 30 --image out/coffee.png --out out/demo.mp4
	@echo "The stack is still running: 'make down' stops it."

bench: setup ## Run the benchmarks in bench/ and write bench/report.md (make bench ONLY="planner refine")
	@$(PY) bench/run.py $(ONLY)

chaos: setup ## Full chaos run: 20 videos, faults at 30 %, figures into bench/report.md
	@$(PY) bench/run.py chaos

k8s-render: setup ## Render deploy/k8s overlays into out/k8s/ and validate every object (Kubernetes + KEDA schemas)
	@bash scripts/k8s-tools.sh
	@$(PY) scripts/k8s_render.py
